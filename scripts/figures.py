"""What every plot script does with a finished figure: lay it out, write it
beside its destination and rename it (an interrupted run leaves the previous
PNG whole), close it, and return the path. The caller has chosen the
matplotlib backend (Agg) before importing pyplot."""

import os


def save_figure(fig, folder, name, dpi):
    import matplotlib.pyplot as plt

    fig.tight_layout()
    out = os.path.join(folder, name)
    fig.savefig(out + ".tmp", dpi=dpi, format="png")
    os.replace(out + ".tmp", out)
    plt.close(fig)
    return out
