"""Hand-vectorised sparse row sums for a batch of reservoirs, compiled with llvmlite.

A batch keeps its rates as X (N, B) float32, rows contiguous, so a synapse j -> i adds
w * X[j, :] to row i's B sums: one vector multiply-add per 16 reservoirs. numba's loop
vectoriser keeps those B sums in memory (B is only known at run time), and every synapse then
pays a load and a store per vector. Here the sums of 64 reservoirs live in four vector
registers for a whole row, so a synapse costs four loads and four multiply-adds.

The kernels are written in LLVM IR and compiled by llvmlite, the compiler numba itself uses, for
the host CPU; LLVM lowers the 16-wide vectors to whatever the CPU has (AVX-512, AVX2, SSE, NEON).
``row_sums`` and ``row_sums_masked`` are ctypes function pointers that numba kernels can call.

    row_sums(out, X, B, indptr, indices, weights, N)
        out[i, :] = sum_p weights[p] * X[indices[p], :] over p in indptr[i] .. indptr[i + 1]
    row_sums_masked(out, mask_out, X, B, indptr, indices, weights, N)
        the same, and mask_out[i, :] = sum_p X[indices[p], :]

All arrays C-contiguous; X, out, mask_out float32 (N, B) with B a multiple of ``LANES``;
indptr, indices int32; weights float32.
"""
from __future__ import annotations

import ctypes
import threading

LANES = 16          # floats per vector; batches are padded to a multiple of this
_GROUP = 4          # vectors per pass: 64 reservoirs' sums held in registers

_HEADER = """
declare <16 x float> @llvm.fma.v16f32(<16 x float>, <16 x float>, <16 x float>)
"""


def _row_function(name: str, masked: bool, vectors: int) -> str:
    """IR of one pass over all rows for ``vectors`` x 16 lanes starting at lane %lane0."""
    acc = [f"%a{v}" for v in range(vectors)]
    msk = [f"%m{v}" for v in range(vectors)] if masked else []
    zero = "zeroinitializer"
    lines = []
    phis = []
    for reg in acc + msk:
        phis.append(f"  {reg} = phi <16 x float> [{zero}, %row], [{reg}.next, %syn]")
    body = []
    for v in range(vectors):
        body.append(f"  %xp{v} = getelementptr float, ptr %xrow, i64 {v * 16}")
        body.append(f"  %x{v} = load <16 x float>, ptr %xp{v}, align 4")
        body.append(f"  %a{v}.next = call <16 x float> @llvm.fma.v16f32(<16 x float> %wv, <16 x float> %x{v}, <16 x float> %a{v})")
        if masked:
            body.append(f"  %m{v}.next = fadd <16 x float> %m{v}, %x{v}")
    stores = []
    for v in range(vectors):
        stores.append(f"  %op{v} = getelementptr float, ptr %orow, i64 {v * 16}")
        stores.append(f"  store <16 x float> %a{v}.final, ptr %op{v}, align 4")
        if masked:
            stores.append(f"  %mp{v} = getelementptr float, ptr %mrow, i64 {v * 16}")
            stores.append(f"  store <16 x float> %m{v}.final, ptr %mp{v}, align 4")
    finals = []
    for reg in acc + msk:
        finals.append(f"  {reg}.final = phi <16 x float> [{zero}, %row], [{reg}.next, %syn]")
    mask_arg = "ptr noalias %mout, " if masked else ""
    mask_row = "  %mrow = getelementptr float, ptr %mout, i64 %base\n" if masked else ""
    lines.append(f"""
define private void @{name}(ptr noalias %out, {mask_arg}ptr noalias %X, i64 %B, ptr noalias %ptr,
                          ptr noalias %idx, ptr noalias %w, i64 %N, i64 %lane0) {{
entry:
  %has_rows = icmp sgt i64 %N, 0
  br i1 %has_rows, label %row, label %done
row:
  %i = phi i64 [0, %entry], [%i.next, %row.end]
  %pp = getelementptr i32, ptr %ptr, i64 %i
  %p0.32 = load i32, ptr %pp, align 4
  %pp1 = getelementptr i32, ptr %pp, i64 1
  %p1.32 = load i32, ptr %pp1, align 4
  %p0 = sext i32 %p0.32 to i64
  %p1 = sext i32 %p1.32 to i64
  %rowmul = mul i64 %i, %B
  %base = add i64 %rowmul, %lane0
  %orow = getelementptr float, ptr %out, i64 %base
{mask_row}  %nonempty = icmp slt i64 %p0, %p1
  br i1 %nonempty, label %syn, label %row.end
syn:
  %p = phi i64 [%p0, %row], [%p.next, %syn]
{chr(10).join(phis)}
  %ip = getelementptr i32, ptr %idx, i64 %p
  %j32 = load i32, ptr %ip, align 4
  %j = sext i32 %j32 to i64
  %jmul = mul i64 %j, %B
  %xoff = add i64 %jmul, %lane0
  %xrow = getelementptr float, ptr %X, i64 %xoff
  %wp = getelementptr float, ptr %w, i64 %p
  %ws = load float, ptr %wp, align 4
  %wins = insertelement <16 x float> poison, float %ws, i64 0
  %wv = shufflevector <16 x float> %wins, <16 x float> poison, <16 x i32> zeroinitializer
{chr(10).join(body)}
  %p.next = add i64 %p, 1
  %more = icmp slt i64 %p.next, %p1
  br i1 %more, label %syn, label %row.end
row.end:
{chr(10).join(finals)}
{chr(10).join(stores)}
  %i.next = add i64 %i, 1
  %rows_left = icmp slt i64 %i.next, %N
  br i1 %rows_left, label %row, label %done
done:
  ret void
}}
""")
    return "".join(lines)


def _entry(name: str, masked: bool) -> str:
    """Public function: passes of 64 lanes, then passes of 16 for the rest of B."""
    mask_param = "ptr noalias %mout, " if masked else ""
    mask_arg = "ptr %mout, " if masked else ""
    wide, narrow = f"{name}_x{_GROUP}", f"{name}_x1"
    return f"""
define void @{name}(ptr noalias %out, {mask_param}ptr noalias %X, i64 %B, ptr noalias %ptr,
                    ptr noalias %idx, ptr noalias %w, i64 %N) {{
entry:
  br label %wide.check
wide.check:
  %l = phi i64 [0, %entry], [%l.next, %wide]
  %l.end = add i64 %l, {16 * _GROUP}
  %fits = icmp sle i64 %l.end, %B
  br i1 %fits, label %wide, label %narrow.check
wide:
  call void @{wide}(ptr %out, {mask_arg}ptr %X, i64 %B, ptr %ptr, ptr %idx, ptr %w, i64 %N, i64 %l)
  %l.next = add i64 %l, {16 * _GROUP}
  br label %wide.check
narrow.check:
  %n = phi i64 [%l, %wide.check], [%n.next, %narrow]
  %n.end = add i64 %n, 16
  %nfits = icmp sle i64 %n.end, %B
  br i1 %nfits, label %narrow, label %done
narrow:
  call void @{narrow}(ptr %out, {mask_arg}ptr %X, i64 %B, ptr %ptr, ptr %idx, ptr %w, i64 %N, i64 %n)
  %n.next = add i64 %n, 16
  br label %narrow.check
done:
  ret void
}}
"""


def _module_ir() -> str:
    parts = [_HEADER]
    for name, masked in (("row_sums", False), ("row_sums_masked", True)):
        parts.append(_row_function(f"{name}_x{_GROUP}", masked, _GROUP))
        parts.append(_row_function(f"{name}_x1", masked, 1))
        parts.append(_entry(name, masked))
    return "".join(parts)


_P = ctypes.c_void_p
_I = ctypes.c_int64
ROW_SUMS_TYPE = ctypes.CFUNCTYPE(None, _P, _P, _I, _P, _P, _P, _I)
ROW_SUMS_MASKED_TYPE = ctypes.CFUNCTYPE(None, _P, _P, _P, _I, _P, _P, _P, _I)

_lock = threading.Lock()
_compiled = None


def kernels():
    """(row_sums, row_sums_masked) as ctypes function pointers, compiled once per process."""
    global _compiled
    with _lock:
        if _compiled is None:
            import llvmlite.binding as llvm
            llvm.initialize_native_target()
            llvm.initialize_native_asmprinter()
            module = llvm.parse_assembly(_module_ir())
            module.verify()
            machine = llvm.Target.from_default_triple().create_target_machine(
                cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(), opt=3)
            engine = llvm.create_mcjit_compiler(module, machine)
            engine.finalize_object()
            _compiled = (engine,   # keeps the machine code alive
                         ROW_SUMS_TYPE(engine.get_function_address("row_sums")),
                         ROW_SUMS_MASKED_TYPE(engine.get_function_address("row_sums_masked")))
        return _compiled[1], _compiled[2]
