"""A memory prefetch hint for the Numba kernels (``llvm.prefetch``).

The profile and cleft kernels read short runs of image rows that lie a whole image row
apart; the hardware prefetcher restarts on every one, so the kernels ask for the next rows
themselves while working on the current ones.
"""

from __future__ import annotations

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.core.extending import intrinsic


@intrinsic
def _prefetch(typingctx, arr, r, c):
    """Ask the CPU to start loading the cache line of ``arr[r, c]`` (2-D, in bounds).

    A hint (``llvm.prefetch``: read, keep in all cache levels), never a fault. Fetching
    the next window rows while the current ones are summed takes ~1/3 off the profile's
    block pass, which is bound by memory.
    """

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, sig.args[0], ary, [args[1], args[2]],
                                       wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        # the intrinsic is mangled on its pointer type: "p0" for opaque pointers
        name = "llvm.prefetch.p0" if str(i8p) == "ptr" else "llvm.prefetch.p0i8"
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), name)
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(arr, r, c), codegen


@njit(cache=True, error_model="numpy")
def _prefetch_row(arr, r, c0, c1):
    """Prefetch ``arr[r, c0:c1]`` (4-byte items: one hint per 64-byte line)."""
    for c in range(c0, c1, 16):
        _prefetch(arr, r, c)
    _prefetch(arr, r, c1 - 1)
