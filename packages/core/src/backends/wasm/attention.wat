;; Multi-head self-attention, forward and backward, with 128-bit SIMD, in
;; place on tfjs-backend-wasm's memory (imported; see heap_kernels.wat), for
;; vitkit's fused attention kernels (fused/attention.ts, whose JS loops the
;; cpu backend runs). One call does what tfjs launches ~15 kernels for
;; forward (split, head transposes, two batched products, softmax, merge) and
;; ~30 backward, and reads q, k and v straight out of the qkv projection's
;; [B*T, 3D] rows (columns q | k | v, each H heads of Dh).
;;
;; Per batch item b and head h, with q, k, v the head's [T, Dh] slices:
;;   forward   s = (q k^T) scale,  p = softmax_row(s),  ctx = p v
;;   backward  dp = dctx v^T (+ the gradient of p, when p is used),
;;             ds = p (dp - rowsum(p dp)) scale,
;;             dq = ds k,  dk = ds^T q,  dv = p^T dctx.
;; Every product is written once per output row from SIMD accumulators held
;; in registers (no read-modify-write of outputs): a row of scores is
;; q_i times k^T, vectorized over keys (k^T is copied per head into scratch
;; first); a context, dq, dk or dv row is a weighted sum of rows, vectorized
;; over Dh in blocks of 16. Products accumulate in float32 (as a float32 GEMM
;; does); exp is a float32 polynomial (relative error ~1e-7); the softmax sum
;; and normalization and the backward's row sums run in double. Pointers are
;; byte offsets, counts are elements.
;;
;; variants: shared
(module
  (import "env" "memory" (memory 1))

  ;; exp of four floats for x <= 0 (softmax arguments after the max is taken
  ;; out), clamped at -87 (exp = 1.6e-38, still normal): 2^k exp(r),
  ;; r = x - k ln2, |r| <= ln2 / 2, a degree-7 Taylor polynomial.
  (func $exp4 (param $x v128) (result v128)
    (local $k v128) (local $r v128) (local $p v128)
    (local.set $x (f32x4.max (local.get $x) (f32x4.splat (f32.const -87))))
    (local.set $k (f32x4.nearest (f32x4.mul (local.get $x) (f32x4.splat (f32.const 1.44269504)))))
    ;; ln2 split in two: k ln2_hi is exact for |k| < 2^8
    (local.set $r (f32x4.sub (local.get $x) (f32x4.mul (local.get $k) (f32x4.splat (f32.const 0.693359375)))))
    (local.set $r (f32x4.sub (local.get $r) (f32x4.mul (local.get $k) (f32x4.splat (f32.const -2.12194440e-4)))))
    (local.set $p (f32x4.splat (f32.const 1.98412698e-4)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1.38888889e-3))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 8.33333333e-3))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 4.16666667e-2))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 0.166666667))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 0.5))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1))))
    ;; 2^k from the exponent bits: (k + 127) << 23
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $k)) (i32x4.splat (i32.const 127))) (i32.const 23))))

  ;; dst[d * n + j] = src[j * stride + d] for j < n, d < dh (one head's [n, dh]
  ;; slice of strided rows, transposed into contiguous scratch).
  (func $transpose (param $dst i32) (param $src i32) (param $stride i32) (param $n i32) (param $dh i32)
    (local $j i32) (local $d i32) (local $ps i32) (local $colB i32)
    (local.set $colB (i32.shl (local.get $n) (i32.const 2)))
    (local.set $j (i32.const 0))
    (block $jDone (loop $jLoop
      (br_if $jDone (i32.ge_u (local.get $j) (local.get $n)))
      (local.set $ps (i32.add (local.get $src) (i32.mul (local.get $j) (local.get $stride))))
      (local.set $d (i32.const 0))
      (block $dDone (loop $dLoop
        (br_if $dDone (i32.ge_u (local.get $d) (local.get $dh)))
        (f32.store (i32.add (i32.add (local.get $dst) (i32.shl (local.get $j) (i32.const 2))) (i32.mul (local.get $d) (local.get $colB)))
          (f32.load (i32.add (local.get $ps) (i32.shl (local.get $d) (i32.const 2)))))
        (local.set $d (i32.add (local.get $d) (i32.const 1)))
        (br $dLoop)))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $jLoop))))

  ;; out[j] = sum_d a[d] xT[d * n + j] for j < n: one row times a transposed
  ;; [dh, n] matrix, 16 then 4 then 1 outputs at a time.
  (func $rowTimesT (param $out i32) (param $a i32) (param $xT i32) (param $n i32) (param $dh i32)
    (local $j i32) (local $d i32) (local $px i32) (local $colB i32) (local $s v128) (local $sf f32)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local.set $colB (i32.shl (local.get $n) (i32.const 2)))
    (local.set $j (i32.const 0))
    (block $j16Done (loop $j16Loop
      (br_if $j16Done (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $n)))
      (local.set $c0 (v128.const i64x2 0 0)) (local.set $c1 (v128.const i64x2 0 0))
      (local.set $c2 (v128.const i64x2 0 0)) (local.set $c3 (v128.const i64x2 0 0))
      (local.set $px (i32.add (local.get $xT) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $d (i32.const 0))
      (block $dDone (loop $dLoop
        (br_if $dDone (i32.ge_u (local.get $d) (local.get $dh)))
        (local.set $s (v128.load32_splat (i32.add (local.get $a) (i32.shl (local.get $d) (i32.const 2)))))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (v128.load align=4 (local.get $px)))))
        (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (v128.load offset=16 align=4 (local.get $px)))))
        (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (v128.load offset=32 align=4 (local.get $px)))))
        (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (v128.load offset=48 align=4 (local.get $px)))))
        (local.set $px (i32.add (local.get $px) (local.get $colB)))
        (local.set $d (i32.add (local.get $d) (i32.const 1)))
        (br $dLoop)))
      (local.set $px (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
      (v128.store align=4 (local.get $px) (local.get $c0))
      (v128.store offset=16 align=4 (local.get $px) (local.get $c1))
      (v128.store offset=32 align=4 (local.get $px) (local.get $c2))
      (v128.store offset=48 align=4 (local.get $px) (local.get $c3))
      (local.set $j (i32.add (local.get $j) (i32.const 16)))
      (br $j16Loop)))
    (block $j4Done (loop $j4Loop
      (br_if $j4Done (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $n)))
      (local.set $c0 (v128.const i64x2 0 0))
      (local.set $px (i32.add (local.get $xT) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $d (i32.const 0))
      (block $dDone4 (loop $dLoop4
        (br_if $dDone4 (i32.ge_u (local.get $d) (local.get $dh)))
        (local.set $c0 (f32x4.add (local.get $c0)
          (f32x4.mul (v128.load32_splat (i32.add (local.get $a) (i32.shl (local.get $d) (i32.const 2)))) (v128.load align=4 (local.get $px)))))
        (local.set $px (i32.add (local.get $px) (local.get $colB)))
        (local.set $d (i32.add (local.get $d) (i32.const 1)))
        (br $dLoop4)))
      (v128.store align=4 (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $c0))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br $j4Loop)))
    (block $j1Done (loop $j1Loop
      (br_if $j1Done (i32.ge_u (local.get $j) (local.get $n)))
      (local.set $sf (f32.const 0))
      (local.set $px (i32.add (local.get $xT) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $d (i32.const 0))
      (block $dDone1 (loop $dLoop1
        (br_if $dDone1 (i32.ge_u (local.get $d) (local.get $dh)))
        (local.set $sf (f32.add (local.get $sf) (f32.mul (f32.load (i32.add (local.get $a) (i32.shl (local.get $d) (i32.const 2)))) (f32.load (local.get $px)))))
        (local.set $px (i32.add (local.get $px) (local.get $colB)))
        (local.set $d (i32.add (local.get $d) (i32.const 1)))
        (br $dLoop1)))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $sf))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $j1Loop))))

  ;; out[d] = sum_j w[j * wStride] x[j * xStride + d] for d < dh: a weighted
  ;; sum of n strided rows, 16 then 4 then 1 columns at a time.
  (func $weightedRows (param $out i32) (param $w i32) (param $wStride i32) (param $x i32) (param $xStride i32) (param $n i32) (param $dh i32)
    (local $d i32) (local $j i32) (local $pw i32) (local $px i32) (local $s v128) (local $sf f32)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local.set $d (i32.const 0))
    (block $d16Done (loop $d16Loop
      (br_if $d16Done (i32.gt_u (i32.add (local.get $d) (i32.const 16)) (local.get $dh)))
      (local.set $c0 (v128.const i64x2 0 0)) (local.set $c1 (v128.const i64x2 0 0))
      (local.set $c2 (v128.const i64x2 0 0)) (local.set $c3 (v128.const i64x2 0 0))
      (local.set $pw (local.get $w))
      (local.set $px (i32.add (local.get $x) (i32.shl (local.get $d) (i32.const 2))))
      (local.set $j (i32.const 0))
      (block $jDone (loop $jLoop
        (br_if $jDone (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $s (v128.load32_splat (local.get $pw)))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (v128.load align=4 (local.get $px)))))
        (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (v128.load offset=16 align=4 (local.get $px)))))
        (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (v128.load offset=32 align=4 (local.get $px)))))
        (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (v128.load offset=48 align=4 (local.get $px)))))
        (local.set $pw (i32.add (local.get $pw) (local.get $wStride)))
        (local.set $px (i32.add (local.get $px) (local.get $xStride)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jLoop)))
      (local.set $px (i32.add (local.get $out) (i32.shl (local.get $d) (i32.const 2))))
      (v128.store align=4 (local.get $px) (local.get $c0))
      (v128.store offset=16 align=4 (local.get $px) (local.get $c1))
      (v128.store offset=32 align=4 (local.get $px) (local.get $c2))
      (v128.store offset=48 align=4 (local.get $px) (local.get $c3))
      (local.set $d (i32.add (local.get $d) (i32.const 16)))
      (br $d16Loop)))
    (block $d4Done (loop $d4Loop
      (br_if $d4Done (i32.gt_u (i32.add (local.get $d) (i32.const 4)) (local.get $dh)))
      (local.set $c0 (v128.const i64x2 0 0))
      (local.set $pw (local.get $w))
      (local.set $px (i32.add (local.get $x) (i32.shl (local.get $d) (i32.const 2))))
      (local.set $j (i32.const 0))
      (block $jDone4 (loop $jLoop4
        (br_if $jDone4 (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (v128.load32_splat (local.get $pw)) (v128.load align=4 (local.get $px)))))
        (local.set $pw (i32.add (local.get $pw) (local.get $wStride)))
        (local.set $px (i32.add (local.get $px) (local.get $xStride)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jLoop4)))
      (v128.store align=4 (i32.add (local.get $out) (i32.shl (local.get $d) (i32.const 2))) (local.get $c0))
      (local.set $d (i32.add (local.get $d) (i32.const 4)))
      (br $d4Loop)))
    (block $d1Done (loop $d1Loop
      (br_if $d1Done (i32.ge_u (local.get $d) (local.get $dh)))
      (local.set $sf (f32.const 0))
      (local.set $pw (local.get $w))
      (local.set $px (i32.add (local.get $x) (i32.shl (local.get $d) (i32.const 2))))
      (local.set $j (i32.const 0))
      (block $jDone1 (loop $jLoop1
        (br_if $jDone1 (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $sf (f32.add (local.get $sf) (f32.mul (f32.load (local.get $pw)) (f32.load (local.get $px)))))
        (local.set $pw (i32.add (local.get $pw) (local.get $wStride)))
        (local.set $px (i32.add (local.get $px) (local.get $xStride)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jLoop1)))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $d) (i32.const 2))) (local.get $sf))
      (local.set $d (i32.add (local.get $d) (i32.const 1)))
      (br $d1Loop))))

  ;; row[j] = softmax_j(row[j] scale), in place: max and exp in float32, the
  ;; sum and the normalization in double.
  (func $softmaxRow (param $row i32) (param $n i32) (param $scale f32)
    (local $j i32) (local $p i32) (local $v v128) (local $mx v128) (local $max f32) (local $sum v128) (local $s f64) (local $inv v128)
    (local.set $mx (f32x4.splat (f32.const -inf)))
    (local.set $max (f32.const -inf))
    (local.set $j (i32.const 0))
    (block $d1 (loop $l1
      (br_if $d1 (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $n)))
      (local.set $p (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $v (f32x4.mul (v128.load align=4 (local.get $p)) (f32x4.splat (local.get $scale))))
      (v128.store align=4 (local.get $p) (local.get $v))
      (local.set $mx (f32x4.max (local.get $mx) (local.get $v)))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br $l1)))
    (block $t1 (loop $tl1
      (br_if $t1 (i32.ge_u (local.get $j) (local.get $n)))
      (local.set $p (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
      (f32.store (local.get $p) (f32.mul (f32.load (local.get $p)) (local.get $scale)))
      (local.set $max (f32.max (local.get $max) (f32.load (local.get $p))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $tl1)))
    (local.set $max (f32.max (f32.max (f32.max (local.get $max) (f32x4.extract_lane 0 (local.get $mx)))
      (f32.max (f32x4.extract_lane 1 (local.get $mx)) (f32x4.extract_lane 2 (local.get $mx)))) (f32x4.extract_lane 3 (local.get $mx))))
    (local.set $mx (f32x4.splat (local.get $max)))
    ;; exp(s - max) in place; the sum in double (two f64x2 halves)
    (local.set $sum (v128.const i64x2 0 0))
    (local.set $j (i32.const 0))
    (block $d2 (loop $l2
      (br_if $d2 (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $n)))
      (local.set $p (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $v (call $exp4 (f32x4.sub (v128.load align=4 (local.get $p)) (local.get $mx))))
      (v128.store align=4 (local.get $p) (local.get $v))
      (local.set $sum (f64x2.add (local.get $sum) (f64x2.add (f64x2.promote_low_f32x4 (local.get $v))
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v))))))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br $l2)))
    (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $sum)) (f64x2.extract_lane 1 (local.get $sum))))
    (block $t2 (loop $tl2
      (br_if $t2 (i32.ge_u (local.get $j) (local.get $n)))
      (local.set $p (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $v (call $exp4 (f32x4.sub (v128.load32_splat (local.get $p)) (local.get $mx))))
      (f32.store (local.get $p) (f32x4.extract_lane 0 (local.get $v)))
      (local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32x4.extract_lane 0 (local.get $v)))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $tl2)))
    ;; p = e / sum, each rounded once from double
    (local.set $inv (f64x2.splat (f64.div (f64.const 1) (local.get $s))))
    (local.set $j (i32.const 0))
    (block $d3 (loop $l3
      (br_if $d3 (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $n)))
      (local.set $p (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $v (v128.load align=4 (local.get $p)))
      (v128.store align=4 (local.get $p)
        (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (f64x2.mul (f64x2.promote_low_f32x4 (local.get $v)) (local.get $inv)))
          (f32x4.demote_f64x2_zero (f64x2.mul (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v))) (local.get $inv)))))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br $l3)))
    (block $t3 (loop $tl3
      (br_if $t3 (i32.ge_u (local.get $j) (local.get $n)))
      (local.set $p (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
      (f32.store (local.get $p) (f32.demote_f64 (f64.mul (f64.promote_f32 (f32.load (local.get $p))) (f64x2.extract_lane 0 (local.get $inv)))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $tl3))))

  ;; ds[j] = p[j] (dp[j] (+ g[j]) - sum_k p[k] dp[k]) scale, in place over dp
  ;; (g: the gradient of p itself, when $hasG). The row sum in double.
  (func $softmaxGradRow (param $dp i32) (param $p i32) (param $g i32) (param $hasG i32) (param $n i32) (param $scale f32)
    (local $j i32) (local $o i32) (local $v f32) (local $dot f64) (local $rd f32)
    (local.set $dot (f64.const 0))
    (local.set $j (i32.const 0))
    (block $d1 (loop $l1
      (br_if $d1 (i32.ge_u (local.get $j) (local.get $n)))
      (local.set $o (i32.shl (local.get $j) (i32.const 2)))
      (if (local.get $hasG)
        (then (f32.store (i32.add (local.get $dp) (local.get $o))
          (f32.add (f32.load (i32.add (local.get $dp) (local.get $o))) (f32.load (i32.add (local.get $g) (local.get $o)))))))
      (local.set $dot (f64.add (local.get $dot)
        (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $p) (local.get $o)))) (f64.promote_f32 (f32.load (i32.add (local.get $dp) (local.get $o)))))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $l1)))
    (local.set $rd (f32.demote_f64 (local.get $dot)))
    (local.set $j (i32.const 0))
    (block $d2 (loop $l2
      (br_if $d2 (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $n)))
      (local.set $o (i32.shl (local.get $j) (i32.const 2)))
      (v128.store align=4 (i32.add (local.get $dp) (local.get $o))
        (f32x4.mul (f32x4.mul (v128.load align=4 (i32.add (local.get $p) (local.get $o)))
          (f32x4.sub (v128.load align=4 (i32.add (local.get $dp) (local.get $o))) (f32x4.splat (local.get $rd)))) (f32x4.splat (local.get $scale))))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br $l2)))
    (block $t2 (loop $tl2
      (br_if $t2 (i32.ge_u (local.get $j) (local.get $n)))
      (local.set $o (i32.shl (local.get $j) (i32.const 2)))
      (f32.store (i32.add (local.get $dp) (local.get $o))
        (f32.mul (f32.mul (f32.load (i32.add (local.get $p) (local.get $o))) (f32.sub (f32.load (i32.add (local.get $dp) (local.get $o))) (local.get $rd))) (local.get $scale)))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $tl2))))

  ;; ctx [B*T, D] and probs [B, H, T, T] from qkv [B*T, 3D] (D = heads *
  ;; headDim); $scratch holds headDim * T floats (one head's k^T).
  (func (export "attention")
    (param $qkv i32) (param $ctx i32) (param $probs i32) (param $scratch i32)
    (param $batch i32) (param $tokens i32) (param $heads i32) (param $headDim i32) (param $scale f32)
    (local $rowQ i32) (local $rowC i32) (local $dimB i32) (local $dhB i32) (local $rowP i32)
    (local $b i32) (local $h i32) (local $i i32) (local $qb i32) (local $cb i32) (local $pb i32) (local $pp i32)
    (local.set $dhB (i32.shl (local.get $headDim) (i32.const 2)))
    (local.set $dimB (i32.mul (local.get $heads) (local.get $dhB)))
    (local.set $rowC (local.get $dimB))
    (local.set $rowQ (i32.mul (local.get $dimB) (i32.const 3)))
    (local.set $rowP (i32.shl (local.get $tokens) (i32.const 2)))
    (local.set $pb (local.get $probs))
    (local.set $b (i32.const 0))
    (block $bDone (loop $bLoop
      (br_if $bDone (i32.ge_u (local.get $b) (local.get $batch)))
      (local.set $h (i32.const 0))
      (block $hDone (loop $hLoop
        (br_if $hDone (i32.ge_u (local.get $h) (local.get $heads)))
        (local.set $qb (i32.add (i32.add (local.get $qkv) (i32.mul (i32.mul (local.get $b) (local.get $tokens)) (local.get $rowQ))) (i32.mul (local.get $h) (local.get $dhB))))
        (local.set $cb (i32.add (i32.add (local.get $ctx) (i32.mul (i32.mul (local.get $b) (local.get $tokens)) (local.get $rowC))) (i32.mul (local.get $h) (local.get $dhB))))
        (call $transpose (local.get $scratch) (i32.add (local.get $qb) (local.get $dimB)) (local.get $rowQ) (local.get $tokens) (local.get $headDim))
        (local.set $i (i32.const 0))
        (block $iDone (loop $iLoop
          (br_if $iDone (i32.ge_u (local.get $i) (local.get $tokens)))
          (local.set $pp (i32.add (local.get $pb) (i32.mul (local.get $i) (local.get $rowP))))
          (call $rowTimesT (local.get $pp) (i32.add (local.get $qb) (i32.mul (local.get $i) (local.get $rowQ))) (local.get $scratch) (local.get $tokens) (local.get $headDim))
          (call $softmaxRow (local.get $pp) (local.get $tokens) (local.get $scale))
          (call $weightedRows (i32.add (local.get $cb) (i32.mul (local.get $i) (local.get $rowC)))
            (local.get $pp) (i32.const 4) (i32.add (local.get $qb) (i32.shl (local.get $dimB) (i32.const 1))) (local.get $rowQ) (local.get $tokens) (local.get $headDim))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $iLoop)))
        (local.set $pb (i32.add (local.get $pb) (i32.mul (local.get $tokens) (local.get $rowP))))
        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br $hLoop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bLoop))))

  ;; dqkv [B*T, 3D] from dctx [B*T, D], qkv, probs [B, H, T, T] and, when
  ;; $hasDprobs, the gradient reaching probs directly (dprobs, probs' shape).
  ;; $scratch holds headDim * T + T * T floats (one head's v^T, then ds).
  (func (export "attention_grad")
    (param $dy i32) (param $qkv i32) (param $probs i32) (param $dprobs i32) (param $hasDprobs i32) (param $dqkv i32) (param $scratch i32)
    (param $batch i32) (param $tokens i32) (param $heads i32) (param $headDim i32) (param $scale f32)
    (local $rowQ i32) (local $rowC i32) (local $dimB i32) (local $dhB i32) (local $rowP i32)
    (local $b i32) (local $h i32) (local $i i32) (local $off i32)
    (local $qb i32) (local $yb i32) (local $pb i32) (local $gb i32) (local $dqb i32) (local $ds i32) (local $pds i32)
    (local.set $dhB (i32.shl (local.get $headDim) (i32.const 2)))
    (local.set $dimB (i32.mul (local.get $heads) (local.get $dhB)))
    (local.set $rowC (local.get $dimB))
    (local.set $rowQ (i32.mul (local.get $dimB) (i32.const 3)))
    (local.set $rowP (i32.shl (local.get $tokens) (i32.const 2)))
    (local.set $ds (i32.add (local.get $scratch) (i32.mul (local.get $headDim) (local.get $rowP))))
    (local.set $pb (local.get $probs))
    (local.set $gb (local.get $dprobs))
    (local.set $b (i32.const 0))
    (block $bDone (loop $bLoop
      (br_if $bDone (i32.ge_u (local.get $b) (local.get $batch)))
      (local.set $h (i32.const 0))
      (block $hDone (loop $hLoop
        (br_if $hDone (i32.ge_u (local.get $h) (local.get $heads)))
        (local.set $off (i32.add (i32.mul (i32.mul (local.get $b) (local.get $tokens)) (local.get $rowQ)) (i32.mul (local.get $h) (local.get $dhB))))
        (local.set $qb (i32.add (local.get $qkv) (local.get $off)))
        (local.set $dqb (i32.add (local.get $dqkv) (local.get $off)))
        (local.set $yb (i32.add (i32.add (local.get $dy) (i32.mul (i32.mul (local.get $b) (local.get $tokens)) (local.get $rowC))) (i32.mul (local.get $h) (local.get $dhB))))
        (call $transpose (local.get $scratch) (i32.add (local.get $qb) (i32.shl (local.get $dimB) (i32.const 1))) (local.get $rowQ) (local.get $tokens) (local.get $headDim))
        ;; per query: dp = dctx_i v^T, ds, dq_i = ds_i k
        (local.set $i (i32.const 0))
        (block $iDone (loop $iLoop
          (br_if $iDone (i32.ge_u (local.get $i) (local.get $tokens)))
          (local.set $pds (i32.add (local.get $ds) (i32.mul (local.get $i) (local.get $rowP))))
          (call $rowTimesT (local.get $pds) (i32.add (local.get $yb) (i32.mul (local.get $i) (local.get $rowC))) (local.get $scratch) (local.get $tokens) (local.get $headDim))
          (call $softmaxGradRow (local.get $pds) (i32.add (local.get $pb) (i32.mul (local.get $i) (local.get $rowP)))
            (i32.add (local.get $gb) (i32.mul (local.get $i) (local.get $rowP))) (local.get $hasDprobs) (local.get $tokens) (local.get $scale))
          (call $weightedRows (i32.add (local.get $dqb) (i32.mul (local.get $i) (local.get $rowQ)))
            (local.get $pds) (i32.const 4) (i32.add (local.get $qb) (local.get $dimB)) (local.get $rowQ) (local.get $tokens) (local.get $headDim))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $iLoop)))
        ;; per key: dk_j = sum_i ds_ij q_i, dv_j = sum_i p_ij dctx_i (columns of ds and p)
        (local.set $i (i32.const 0))
        (block $jDone (loop $jLoop
          (br_if $jDone (i32.ge_u (local.get $i) (local.get $tokens)))
          (call $weightedRows (i32.add (i32.add (local.get $dqb) (local.get $dimB)) (i32.mul (local.get $i) (local.get $rowQ)))
            (i32.add (local.get $ds) (i32.shl (local.get $i) (i32.const 2))) (local.get $rowP) (local.get $qb) (local.get $rowQ) (local.get $tokens) (local.get $headDim))
          (call $weightedRows (i32.add (i32.add (local.get $dqb) (i32.shl (local.get $dimB) (i32.const 1))) (i32.mul (local.get $i) (local.get $rowQ)))
            (i32.add (local.get $pb) (i32.shl (local.get $i) (i32.const 2))) (local.get $rowP) (local.get $yb) (local.get $rowC) (local.get $tokens) (local.get $headDim))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $jLoop)))
        (local.set $pb (i32.add (local.get $pb) (i32.mul (local.get $tokens) (local.get $rowP))))
        (local.set $gb (i32.add (local.get $gb) (i32.mul (local.get $tokens) (local.get $rowP))))
        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br $hLoop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bLoop))))
)
