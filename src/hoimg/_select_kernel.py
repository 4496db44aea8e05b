"""One Numba kernel shared by the segmentation and profile kernels: the k-th smallest value.

Pure ``@njit(cache=True)``, arrays and scalars only. Written out rather than
``np.partition``, which costs seconds of compile time.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True, error_model="numpy")
def select_kth(buf, n, k):
    """The ``k``-th smallest of ``buf[:n]`` (0-based; ``buf`` is reordered in place).

    Hoare's quickselect with a median-of-three pivot. ``buf`` must hold no NaN.
    """
    lo = 0
    hi = n - 1
    while lo < hi:
        x = buf[lo]
        y = buf[(lo + hi) // 2]
        z = buf[hi]
        if x > y:
            x, y = y, x
        pivot = max(x, min(y, z))
        i = lo
        j = hi
        while i <= j:
            while buf[i] < pivot:
                i += 1
            while buf[j] > pivot:
                j -= 1
            if i <= j:
                t = buf[i]
                buf[i] = buf[j]
                buf[j] = t
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            break
    return buf[k]
