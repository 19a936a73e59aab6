;; GELU (exact erf, tanh approximation, QuickGELU) forward and backward with
;; 128-bit SIMD, for vitkit's fused GELU kernels (tfjs runs exact GELU as five
;; launches: Mul, Erf, Add, Mul, Mul, with a scalar erf). The module imports
;; its memory: on the wasm backend that is tfjs's own heap (the kernels read
;; and write tensors in place), on the cpu backend a memory of its own that
;; the host copies operands into. Pointers are byte offsets, n counts
;; elements; elements go four at a time (one f32x4 load, computed as two
;; f64x2 halves in double precision, one store), the last n % 4 one at a
;; time. Exact GELU, the one ViTs use, has loops with erf and exp written out
;; inline ($geluExact, $geluGradExact, generated from $erf and $exp): V8 does
;; not inline wasm calls, and a call per pair of elements costs about as much
;; as the arithmetic.
;;
;; erf: the rational approximation Eigen and XLA use for float32,
;; x P(x^2) / Q(x^2) on x clamped to [-4, 4], evaluated here in double: max
;; error 6.5e-8 against the exact erf (in float32 arithmetic it would be 4e-7).
;; The result is clamped to [-1, 1]: at -4 the approximation overshoots -1 by
;; 5e-8, which exact GELU's x (1 + erf) would turn into an error growing with
;; |x| (+2.5e-6 at x = -100).
;; exp (exact GELU's backward, tanh, sigmoid): exp(t) = 2^k exp(r), r = t - k ln 2, |r| <= ln2 / 2,
;; Taylor polynomial of degree 10 (relative error < 1e-12), t clamped to
;; [-700, 700].
;; variants: shared
(module
  (import "env" "memory" (memory 1))

  ;; erf of two doubles.
  (func $erf (param $x v128) (result v128)
    (local $x2 v128) (local $p v128) (local $q v128)
    (local.set $x (f64x2.pmax (f64x2.splat (f64.const -4)) (f64x2.pmin (f64x2.splat (f64.const 4)) (local.get $x))))
    (local.set $x2 (f64x2.mul (local.get $x) (local.get $x)))
    (local.set $p (f64x2.splat (f64.const -2.72614225801306e-10)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $x2)) (f64x2.splat (f64.const 2.77068142495902e-08))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $x2)) (f64x2.splat (f64.const -2.10102402082508e-06))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $x2)) (f64x2.splat (f64.const -5.69250639462346e-05))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $x2)) (f64x2.splat (f64.const -7.34990630326855e-04))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $x2)) (f64x2.splat (f64.const -2.95459980854025e-03))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $x2)) (f64x2.splat (f64.const -1.60960333262415e-02))))
    (local.set $q (f64x2.splat (f64.const -1.45660718464996e-05)))
    (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $x2)) (f64x2.splat (f64.const -2.13374055278905e-04))))
    (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $x2)) (f64x2.splat (f64.const -1.68282697438203e-03))))
    (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $x2)) (f64x2.splat (f64.const -7.37332916720468e-03))))
    (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $x2)) (f64x2.splat (f64.const -1.42647390514189e-02))))
    (f64x2.pmax (f64x2.splat (f64.const -1)) (f64x2.pmin (f64x2.splat (f64.const 1)) (f64x2.div (f64x2.mul (local.get $x) (local.get $p)) (local.get $q)))))

  ;; exp of two doubles, arguments clamped to [-700, 700].
  (func $exp (param $t v128) (result v128)
    (local $k v128) (local $r v128) (local $p v128)
    (local.set $t (f64x2.pmax (f64x2.splat (f64.const -700)) (f64x2.pmin (f64x2.splat (f64.const 700)) (local.get $t))))
    (local.set $k (f64x2.nearest (f64x2.mul (local.get $t) (f64x2.splat (f64.const 1.4426950408889634)))))
    ;; r = t - k ln2, with ln2 split in two so k ln2 is exact to double
    (local.set $r (f64x2.sub (local.get $t) (f64x2.mul (local.get $k) (f64x2.splat (f64.const 0.6931471803691238)))))
    (local.set $r (f64x2.sub (local.get $r) (f64x2.mul (local.get $k) (f64x2.splat (f64.const 1.9082149292705877e-10)))))
    (local.set $p (f64x2.splat (f64.const 2.755731922398589e-07)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const 2.7557319223985893e-06))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const 2.48015873015873e-05))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const 1.984126984126984e-04))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const 1.388888888888889e-03))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const 8.333333333333333e-03))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const 4.1666666666666664e-02))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const 0.16666666666666666))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const 0.5))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const 1))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const 1))))
    ;; 2^k from the exponent bits: (k + 1023) << 52
    (f64x2.mul (local.get $p)
      (i64x2.shl
        (i64x2.add (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $k))) (i64x2.splat (i64.const 1023)))
        (i32.const 52))))

  ;; y = erf(x), elementwise (exported for its accuracy test).
  (func (export "erf") (param $x i32) (param $y i32) (param $n i32)
    (local $end i32) (local $wide i32) (local $v v128) (local $r v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $wide (i32.ge_u (i32.sub (local.get $end) (local.get $x)) (i32.const 16)))
        (local.set $v (if (result v128) (local.get $wide) (then (v128.load align=4 (local.get $x))) (else (v128.load32_zero align=4 (local.get $x)))))
        (local.set $r (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (f32x4.demote_f64x2_zero (call $erf (f64x2.promote_low_f32x4 (local.get $v)))) (f32x4.demote_f64x2_zero (call $erf (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))))
        (if (local.get $wide)
          (then
            (v128.store align=4 (local.get $y) (local.get $r))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (local.set $y (i32.add (local.get $y) (i32.const 16))))
          (else
            (v128.store32_lane align=4 0 (local.get $y) (local.get $r))
            (local.set $x (i32.add (local.get $x) (i32.const 4)))
            (local.set $y (i32.add (local.get $y) (i32.const 4)))))
        (br $next))))

  ;; The activation of two doubles. $mode 0: exact GELU, x Phi(x) = 0.5 x (1 + erf(x / sqrt 2));
  ;; 1: tanh GELU, 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3); 2: QuickGELU, x sigmoid(1.702 x).
  ;; tanh(u) = 1 - 2 / (1 + exp(2u)), sigmoid(z) = 1 / (1 + exp(-z)).
  (func $act (param $v v128) (param $mode i32) (result v128)
    (if (result v128) (i32.eqz (local.get $mode))
      (then
        (f64x2.mul (f64x2.mul (local.get $v) (f64x2.splat (f64.const 0.5)))
          (f64x2.add (f64x2.splat (f64.const 1)) (call $erf (f64x2.mul (local.get $v) (f64x2.splat (f64.const 0.7071067811865476)))))))
      (else
        (if (result v128) (i32.eq (local.get $mode) (i32.const 1))
          (then
            (f64x2.mul (f64x2.mul (local.get $v) (f64x2.splat (f64.const 0.5)))
              (f64x2.add (f64x2.splat (f64.const 1)) (call $tanh (call $tanhArg (local.get $v))))))
          (else
            (f64x2.div (local.get $v)
              (f64x2.add (f64x2.splat (f64.const 1)) (call $exp (f64x2.mul (local.get $v) (f64x2.splat (f64.const -1.702)))))))))))

  ;; The activation's derivative of two doubles ($mode as $act):
  ;; 0: Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi);
  ;; 1: 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 0.044715 x^2), t = tanh(u);
  ;; 2: s + 1.702 x s (1 - s), s = sigmoid(1.702 x).
  (func $actGrad (param $v v128) (param $mode i32) (result v128)
    (local $t v128) (local $s v128)
    (if (result v128) (i32.eqz (local.get $mode))
      (then
        (f64x2.add
          (f64x2.mul (f64x2.splat (f64.const 0.5))
            (f64x2.add (f64x2.splat (f64.const 1)) (call $erf (f64x2.mul (local.get $v) (f64x2.splat (f64.const 0.7071067811865476))))))
          (f64x2.mul (local.get $v) (f64x2.mul (f64x2.splat (f64.const 0.3989422804014327))
            (call $exp (f64x2.mul (f64x2.mul (local.get $v) (local.get $v)) (f64x2.splat (f64.const -0.5))))))))
      (else
        (if (result v128) (i32.eq (local.get $mode) (i32.const 1))
          (then
            (local.set $t (call $tanh (call $tanhArg (local.get $v))))
            (f64x2.add
              (f64x2.mul (f64x2.splat (f64.const 0.5)) (f64x2.add (f64x2.splat (f64.const 1)) (local.get $t)))
              (f64x2.mul
                (f64x2.mul (f64x2.mul (local.get $v) (f64x2.splat (f64.const 0.3989422804014327)))
                  (f64x2.sub (f64x2.splat (f64.const 1)) (f64x2.mul (local.get $t) (local.get $t))))
                (f64x2.add (f64x2.splat (f64.const 1))
                  (f64x2.mul (f64x2.splat (f64.const 0.134145)) (f64x2.mul (local.get $v) (local.get $v)))))))
          (else
            (local.set $s (f64x2.div (f64x2.splat (f64.const 1))
              (f64x2.add (f64x2.splat (f64.const 1)) (call $exp (f64x2.mul (local.get $v) (f64x2.splat (f64.const -1.702)))))))
            (f64x2.add (local.get $s)
              (f64x2.mul (f64x2.mul (local.get $v) (f64x2.splat (f64.const 1.702)))
                (f64x2.mul (local.get $s) (f64x2.sub (f64x2.splat (f64.const 1)) (local.get $s))))))))))

  ;; u = sqrt(2/pi) (x + 0.044715 x^3)
  (func $tanhArg (param $v v128) (result v128)
    (f64x2.mul (f64x2.splat (f64.const 0.7978845608028654))
      (f64x2.add (local.get $v)
        (f64x2.mul (f64x2.splat (f64.const 0.044715)) (f64x2.mul (local.get $v) (f64x2.mul (local.get $v) (local.get $v)))))))

  (func $tanh (param $u v128) (result v128)
    (f64x2.sub (f64x2.splat (f64.const 1))
      (f64x2.div (f64x2.splat (f64.const 2))
        (f64x2.add (f64x2.splat (f64.const 1)) (call $exp (f64x2.add (local.get $u) (local.get $u)))))))

  ;; y = act(x), elementwise.
  (func (export "gelu") (param $x i32) (param $y i32) (param $n i32) (param $mode i32)
    (local $end i32) (local $wide i32) (local $k i32) (local $v v128) (local $r v128)
    (if (i32.eqz (local.get $mode))
      (then
        (local.set $k (call $geluExact (local.get $x) (local.get $y) (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (local.get $k)))
        (local.set $x (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2))))
        (local.set $y (i32.add (local.get $y) (i32.shl (local.get $k) (i32.const 2))))))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $wide (i32.ge_u (i32.sub (local.get $end) (local.get $x)) (i32.const 16)))
        (local.set $v (if (result v128) (local.get $wide) (then (v128.load align=4 (local.get $x))) (else (v128.load32_zero align=4 (local.get $x)))))
        (local.set $r (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (f32x4.demote_f64x2_zero (call $act (f64x2.promote_low_f32x4 (local.get $v)) (local.get $mode))) (f32x4.demote_f64x2_zero (call $act (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $mode)))))
        (if (local.get $wide)
          (then
            (v128.store align=4 (local.get $y) (local.get $r))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (local.set $y (i32.add (local.get $y) (i32.const 16))))
          (else
            (v128.store32_lane align=4 0 (local.get $y) (local.get $r))
            (local.set $x (i32.add (local.get $x) (i32.const 4)))
            (local.set $y (i32.add (local.get $y) (i32.const 4)))))
        (br $next))))

  ;; dx = dy act'(x), elementwise.
  (func (export "gelu_grad") (param $x i32) (param $dy i32) (param $dx i32) (param $n i32) (param $mode i32)
    (local $end i32) (local $wide i32) (local $k i32) (local $v v128) (local $d v128) (local $r v128)
    (if (i32.eqz (local.get $mode))
      (then
        (local.set $k (call $geluGradExact (local.get $x) (local.get $dy) (local.get $dx) (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (local.get $k)))
        (local.set $x (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2))))
        (local.set $dy (i32.add (local.get $dy) (i32.shl (local.get $k) (i32.const 2))))
        (local.set $dx (i32.add (local.get $dx) (i32.shl (local.get $k) (i32.const 2))))))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $wide (i32.ge_u (i32.sub (local.get $end) (local.get $x)) (i32.const 16)))
        (local.set $v (if (result v128) (local.get $wide) (then (v128.load align=4 (local.get $x))) (else (v128.load32_zero align=4 (local.get $x)))))
        (local.set $d (if (result v128) (local.get $wide) (then (v128.load align=4 (local.get $dy))) (else (v128.load32_zero align=4 (local.get $dy)))))
        (local.set $r (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (f32x4.demote_f64x2_zero (f64x2.mul (f64x2.promote_low_f32x4 (local.get $d)) (call $actGrad (f64x2.promote_low_f32x4 (local.get $v)) (local.get $mode)))) (f32x4.demote_f64x2_zero (f64x2.mul (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $d) (local.get $d))) (call $actGrad (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $mode))))))
        (if (local.get $wide)
          (then
            (v128.store align=4 (local.get $dx) (local.get $r))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
            (local.set $dx (i32.add (local.get $dx) (i32.const 16))))
          (else
            (v128.store32_lane align=4 0 (local.get $dx) (local.get $r))
            (local.set $x (i32.add (local.get $x) (i32.const 4)))
            (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
            (local.set $dx (i32.add (local.get $dx) (i32.const 4)))))
        (br $next))))

  ;; y = gelu(x) for mode 0 (exact), four at a time with erf written out
  ;; inline; returns how many elements it did (n rounded down to 4).
  (func $geluExact (param $x i32) (param $y i32) (param $n i32) (result i32)
    (local $end i32) (local $v v128) (local $h0 v128) (local $h1 v128) (local $r0 v128) (local $r1 v128)
    (local $pa v128) (local $pe v128) (local $pp v128) (local $pq v128) (local $px2 v128) (local $qa v128) (local $qe v128) (local $qp v128) (local $qq v128) (local $qx2 v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $v (v128.load align=4 (local.get $x)))
        (local.set $h0 (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $h1 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (local.set $pa (f64x2.mul (local.get $h0) (f64x2.splat (f64.const 0.7071067811865476))))
        (local.set $pa (f64x2.pmax (f64x2.splat (f64.const -4)) (f64x2.pmin (f64x2.splat (f64.const 4)) (local.get $pa))))
        (local.set $px2 (f64x2.mul (local.get $pa) (local.get $pa)))
        (local.set $pp (f64x2.splat (f64.const -2.72614225801306e-10)))
        (local.set $pp (f64x2.add (f64x2.mul (local.get $pp) (local.get $px2)) (f64x2.splat (f64.const 2.77068142495902e-08))))
        (local.set $pp (f64x2.add (f64x2.mul (local.get $pp) (local.get $px2)) (f64x2.splat (f64.const -2.10102402082508e-06))))
        (local.set $pp (f64x2.add (f64x2.mul (local.get $pp) (local.get $px2)) (f64x2.splat (f64.const -5.69250639462346e-05))))
        (local.set $pp (f64x2.add (f64x2.mul (local.get $pp) (local.get $px2)) (f64x2.splat (f64.const -7.34990630326855e-04))))
        (local.set $pp (f64x2.add (f64x2.mul (local.get $pp) (local.get $px2)) (f64x2.splat (f64.const -2.95459980854025e-03))))
        (local.set $pp (f64x2.add (f64x2.mul (local.get $pp) (local.get $px2)) (f64x2.splat (f64.const -1.60960333262415e-02))))
        (local.set $pq (f64x2.splat (f64.const -1.45660718464996e-05)))
        (local.set $pq (f64x2.add (f64x2.mul (local.get $pq) (local.get $px2)) (f64x2.splat (f64.const -2.13374055278905e-04))))
        (local.set $pq (f64x2.add (f64x2.mul (local.get $pq) (local.get $px2)) (f64x2.splat (f64.const -1.68282697438203e-03))))
        (local.set $pq (f64x2.add (f64x2.mul (local.get $pq) (local.get $px2)) (f64x2.splat (f64.const -7.37332916720468e-03))))
        (local.set $pq (f64x2.add (f64x2.mul (local.get $pq) (local.get $px2)) (f64x2.splat (f64.const -1.42647390514189e-02))))
        (local.set $pe (f64x2.pmax (f64x2.splat (f64.const -1)) (f64x2.pmin (f64x2.splat (f64.const 1)) (f64x2.div (f64x2.mul (local.get $pa) (local.get $pp)) (local.get $pq)))))
        (local.set $r0 (f64x2.mul (f64x2.mul (local.get $h0) (f64x2.splat (f64.const 0.5))) (f64x2.add (f64x2.splat (f64.const 1)) (local.get $pe))))
        (local.set $qa (f64x2.mul (local.get $h1) (f64x2.splat (f64.const 0.7071067811865476))))
        (local.set $qa (f64x2.pmax (f64x2.splat (f64.const -4)) (f64x2.pmin (f64x2.splat (f64.const 4)) (local.get $qa))))
        (local.set $qx2 (f64x2.mul (local.get $qa) (local.get $qa)))
        (local.set $qp (f64x2.splat (f64.const -2.72614225801306e-10)))
        (local.set $qp (f64x2.add (f64x2.mul (local.get $qp) (local.get $qx2)) (f64x2.splat (f64.const 2.77068142495902e-08))))
        (local.set $qp (f64x2.add (f64x2.mul (local.get $qp) (local.get $qx2)) (f64x2.splat (f64.const -2.10102402082508e-06))))
        (local.set $qp (f64x2.add (f64x2.mul (local.get $qp) (local.get $qx2)) (f64x2.splat (f64.const -5.69250639462346e-05))))
        (local.set $qp (f64x2.add (f64x2.mul (local.get $qp) (local.get $qx2)) (f64x2.splat (f64.const -7.34990630326855e-04))))
        (local.set $qp (f64x2.add (f64x2.mul (local.get $qp) (local.get $qx2)) (f64x2.splat (f64.const -2.95459980854025e-03))))
        (local.set $qp (f64x2.add (f64x2.mul (local.get $qp) (local.get $qx2)) (f64x2.splat (f64.const -1.60960333262415e-02))))
        (local.set $qq (f64x2.splat (f64.const -1.45660718464996e-05)))
        (local.set $qq (f64x2.add (f64x2.mul (local.get $qq) (local.get $qx2)) (f64x2.splat (f64.const -2.13374055278905e-04))))
        (local.set $qq (f64x2.add (f64x2.mul (local.get $qq) (local.get $qx2)) (f64x2.splat (f64.const -1.68282697438203e-03))))
        (local.set $qq (f64x2.add (f64x2.mul (local.get $qq) (local.get $qx2)) (f64x2.splat (f64.const -7.37332916720468e-03))))
        (local.set $qq (f64x2.add (f64x2.mul (local.get $qq) (local.get $qx2)) (f64x2.splat (f64.const -1.42647390514189e-02))))
        (local.set $qe (f64x2.pmax (f64x2.splat (f64.const -1)) (f64x2.pmin (f64x2.splat (f64.const 1)) (f64x2.div (f64x2.mul (local.get $qa) (local.get $qp)) (local.get $qq)))))
        (local.set $r1 (f64x2.mul (f64x2.mul (local.get $h1) (f64x2.splat (f64.const 0.5))) (f64x2.add (f64x2.splat (f64.const 1)) (local.get $qe))))
        (v128.store align=4 (local.get $y) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (f32x4.demote_f64x2_zero (local.get $r0)) (f32x4.demote_f64x2_zero (local.get $r1))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (br $next)))
    (i32.and (local.get $n) (i32.const -4)))

  ;; dx = dy gelu'(x) for mode 0, four at a time inline, as $geluExact.
  (func $geluGradExact (param $x i32) (param $dy i32) (param $dx i32) (param $n i32) (result i32)
    (local $end i32) (local $v v128) (local $d v128) (local $h0 v128) (local $h1 v128) (local $r0 v128) (local $r1 v128)
    (local $pa v128) (local $pb v128) (local $pe v128) (local $pfp v128) (local $pfq v128) (local $pfx2 v128) (local $pgk v128) (local $pgp v128) (local $pgr v128) (local $px v128) (local $qa v128) (local $qb v128) (local $qe v128) (local $qfp v128) (local $qfq v128) (local $qfx2 v128) (local $qgk v128) (local $qgp v128) (local $qgr v128) (local $qx v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $v (v128.load align=4 (local.get $x)))
        (local.set $d (v128.load align=4 (local.get $dy)))
        (local.set $h0 (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $h1 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (local.set $pa (f64x2.mul (local.get $h0) (f64x2.splat (f64.const 0.7071067811865476))))
        (local.set $pb (f64x2.mul (f64x2.mul (local.get $h0) (local.get $h0)) (f64x2.splat (f64.const -0.5))))
        (local.set $pa (f64x2.pmax (f64x2.splat (f64.const -4)) (f64x2.pmin (f64x2.splat (f64.const 4)) (local.get $pa))))
        (local.set $pfx2 (f64x2.mul (local.get $pa) (local.get $pa)))
        (local.set $pfp (f64x2.splat (f64.const -2.72614225801306e-10)))
        (local.set $pfp (f64x2.add (f64x2.mul (local.get $pfp) (local.get $pfx2)) (f64x2.splat (f64.const 2.77068142495902e-08))))
        (local.set $pfp (f64x2.add (f64x2.mul (local.get $pfp) (local.get $pfx2)) (f64x2.splat (f64.const -2.10102402082508e-06))))
        (local.set $pfp (f64x2.add (f64x2.mul (local.get $pfp) (local.get $pfx2)) (f64x2.splat (f64.const -5.69250639462346e-05))))
        (local.set $pfp (f64x2.add (f64x2.mul (local.get $pfp) (local.get $pfx2)) (f64x2.splat (f64.const -7.34990630326855e-04))))
        (local.set $pfp (f64x2.add (f64x2.mul (local.get $pfp) (local.get $pfx2)) (f64x2.splat (f64.const -2.95459980854025e-03))))
        (local.set $pfp (f64x2.add (f64x2.mul (local.get $pfp) (local.get $pfx2)) (f64x2.splat (f64.const -1.60960333262415e-02))))
        (local.set $pfq (f64x2.splat (f64.const -1.45660718464996e-05)))
        (local.set $pfq (f64x2.add (f64x2.mul (local.get $pfq) (local.get $pfx2)) (f64x2.splat (f64.const -2.13374055278905e-04))))
        (local.set $pfq (f64x2.add (f64x2.mul (local.get $pfq) (local.get $pfx2)) (f64x2.splat (f64.const -1.68282697438203e-03))))
        (local.set $pfq (f64x2.add (f64x2.mul (local.get $pfq) (local.get $pfx2)) (f64x2.splat (f64.const -7.37332916720468e-03))))
        (local.set $pfq (f64x2.add (f64x2.mul (local.get $pfq) (local.get $pfx2)) (f64x2.splat (f64.const -1.42647390514189e-02))))
        (local.set $pe (f64x2.pmax (f64x2.splat (f64.const -1)) (f64x2.pmin (f64x2.splat (f64.const 1)) (f64x2.div (f64x2.mul (local.get $pa) (local.get $pfp)) (local.get $pfq)))))
        (local.set $pb (f64x2.pmax (f64x2.splat (f64.const -700)) (f64x2.pmin (f64x2.splat (f64.const 700)) (local.get $pb))))
        (local.set $pgk (f64x2.nearest (f64x2.mul (local.get $pb) (f64x2.splat (f64.const 1.4426950408889634)))))
        (local.set $pgr (f64x2.sub (local.get $pb) (f64x2.mul (local.get $pgk) (f64x2.splat (f64.const 0.6931471803691238)))))
        (local.set $pgr (f64x2.sub (local.get $pgr) (f64x2.mul (local.get $pgk) (f64x2.splat (f64.const 1.9082149292705877e-10)))))
        (local.set $pgp (f64x2.splat (f64.const 2.755731922398589e-07)))
        (local.set $pgp (f64x2.add (f64x2.mul (local.get $pgp) (local.get $pgr)) (f64x2.splat (f64.const 2.7557319223985893e-06))))
        (local.set $pgp (f64x2.add (f64x2.mul (local.get $pgp) (local.get $pgr)) (f64x2.splat (f64.const 2.48015873015873e-05))))
        (local.set $pgp (f64x2.add (f64x2.mul (local.get $pgp) (local.get $pgr)) (f64x2.splat (f64.const 1.984126984126984e-04))))
        (local.set $pgp (f64x2.add (f64x2.mul (local.get $pgp) (local.get $pgr)) (f64x2.splat (f64.const 1.388888888888889e-03))))
        (local.set $pgp (f64x2.add (f64x2.mul (local.get $pgp) (local.get $pgr)) (f64x2.splat (f64.const 8.333333333333333e-03))))
        (local.set $pgp (f64x2.add (f64x2.mul (local.get $pgp) (local.get $pgr)) (f64x2.splat (f64.const 4.1666666666666664e-02))))
        (local.set $pgp (f64x2.add (f64x2.mul (local.get $pgp) (local.get $pgr)) (f64x2.splat (f64.const 0.16666666666666666))))
        (local.set $pgp (f64x2.add (f64x2.mul (local.get $pgp) (local.get $pgr)) (f64x2.splat (f64.const 0.5))))
        (local.set $pgp (f64x2.add (f64x2.mul (local.get $pgp) (local.get $pgr)) (f64x2.splat (f64.const 1))))
        (local.set $pgp (f64x2.add (f64x2.mul (local.get $pgp) (local.get $pgr)) (f64x2.splat (f64.const 1))))
        (local.set $px (f64x2.mul (local.get $pgp) (i64x2.shl (i64x2.add (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $pgk))) (i64x2.splat (i64.const 1023))) (i32.const 52))))
        (local.set $r0 (f64x2.add (f64x2.mul (f64x2.splat (f64.const 0.5)) (f64x2.add (f64x2.splat (f64.const 1)) (local.get $pe))) (f64x2.mul (local.get $h0) (f64x2.mul (f64x2.splat (f64.const 0.3989422804014327)) (local.get $px)))))
        (local.set $qa (f64x2.mul (local.get $h1) (f64x2.splat (f64.const 0.7071067811865476))))
        (local.set $qb (f64x2.mul (f64x2.mul (local.get $h1) (local.get $h1)) (f64x2.splat (f64.const -0.5))))
        (local.set $qa (f64x2.pmax (f64x2.splat (f64.const -4)) (f64x2.pmin (f64x2.splat (f64.const 4)) (local.get $qa))))
        (local.set $qfx2 (f64x2.mul (local.get $qa) (local.get $qa)))
        (local.set $qfp (f64x2.splat (f64.const -2.72614225801306e-10)))
        (local.set $qfp (f64x2.add (f64x2.mul (local.get $qfp) (local.get $qfx2)) (f64x2.splat (f64.const 2.77068142495902e-08))))
        (local.set $qfp (f64x2.add (f64x2.mul (local.get $qfp) (local.get $qfx2)) (f64x2.splat (f64.const -2.10102402082508e-06))))
        (local.set $qfp (f64x2.add (f64x2.mul (local.get $qfp) (local.get $qfx2)) (f64x2.splat (f64.const -5.69250639462346e-05))))
        (local.set $qfp (f64x2.add (f64x2.mul (local.get $qfp) (local.get $qfx2)) (f64x2.splat (f64.const -7.34990630326855e-04))))
        (local.set $qfp (f64x2.add (f64x2.mul (local.get $qfp) (local.get $qfx2)) (f64x2.splat (f64.const -2.95459980854025e-03))))
        (local.set $qfp (f64x2.add (f64x2.mul (local.get $qfp) (local.get $qfx2)) (f64x2.splat (f64.const -1.60960333262415e-02))))
        (local.set $qfq (f64x2.splat (f64.const -1.45660718464996e-05)))
        (local.set $qfq (f64x2.add (f64x2.mul (local.get $qfq) (local.get $qfx2)) (f64x2.splat (f64.const -2.13374055278905e-04))))
        (local.set $qfq (f64x2.add (f64x2.mul (local.get $qfq) (local.get $qfx2)) (f64x2.splat (f64.const -1.68282697438203e-03))))
        (local.set $qfq (f64x2.add (f64x2.mul (local.get $qfq) (local.get $qfx2)) (f64x2.splat (f64.const -7.37332916720468e-03))))
        (local.set $qfq (f64x2.add (f64x2.mul (local.get $qfq) (local.get $qfx2)) (f64x2.splat (f64.const -1.42647390514189e-02))))
        (local.set $qe (f64x2.pmax (f64x2.splat (f64.const -1)) (f64x2.pmin (f64x2.splat (f64.const 1)) (f64x2.div (f64x2.mul (local.get $qa) (local.get $qfp)) (local.get $qfq)))))
        (local.set $qb (f64x2.pmax (f64x2.splat (f64.const -700)) (f64x2.pmin (f64x2.splat (f64.const 700)) (local.get $qb))))
        (local.set $qgk (f64x2.nearest (f64x2.mul (local.get $qb) (f64x2.splat (f64.const 1.4426950408889634)))))
        (local.set $qgr (f64x2.sub (local.get $qb) (f64x2.mul (local.get $qgk) (f64x2.splat (f64.const 0.6931471803691238)))))
        (local.set $qgr (f64x2.sub (local.get $qgr) (f64x2.mul (local.get $qgk) (f64x2.splat (f64.const 1.9082149292705877e-10)))))
        (local.set $qgp (f64x2.splat (f64.const 2.755731922398589e-07)))
        (local.set $qgp (f64x2.add (f64x2.mul (local.get $qgp) (local.get $qgr)) (f64x2.splat (f64.const 2.7557319223985893e-06))))
        (local.set $qgp (f64x2.add (f64x2.mul (local.get $qgp) (local.get $qgr)) (f64x2.splat (f64.const 2.48015873015873e-05))))
        (local.set $qgp (f64x2.add (f64x2.mul (local.get $qgp) (local.get $qgr)) (f64x2.splat (f64.const 1.984126984126984e-04))))
        (local.set $qgp (f64x2.add (f64x2.mul (local.get $qgp) (local.get $qgr)) (f64x2.splat (f64.const 1.388888888888889e-03))))
        (local.set $qgp (f64x2.add (f64x2.mul (local.get $qgp) (local.get $qgr)) (f64x2.splat (f64.const 8.333333333333333e-03))))
        (local.set $qgp (f64x2.add (f64x2.mul (local.get $qgp) (local.get $qgr)) (f64x2.splat (f64.const 4.1666666666666664e-02))))
        (local.set $qgp (f64x2.add (f64x2.mul (local.get $qgp) (local.get $qgr)) (f64x2.splat (f64.const 0.16666666666666666))))
        (local.set $qgp (f64x2.add (f64x2.mul (local.get $qgp) (local.get $qgr)) (f64x2.splat (f64.const 0.5))))
        (local.set $qgp (f64x2.add (f64x2.mul (local.get $qgp) (local.get $qgr)) (f64x2.splat (f64.const 1))))
        (local.set $qgp (f64x2.add (f64x2.mul (local.get $qgp) (local.get $qgr)) (f64x2.splat (f64.const 1))))
        (local.set $qx (f64x2.mul (local.get $qgp) (i64x2.shl (i64x2.add (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $qgk))) (i64x2.splat (i64.const 1023))) (i32.const 52))))
        (local.set $r1 (f64x2.add (f64x2.mul (f64x2.splat (f64.const 0.5)) (f64x2.add (f64x2.splat (f64.const 1)) (local.get $qe))) (f64x2.mul (local.get $h1) (f64x2.mul (f64x2.splat (f64.const 0.3989422804014327)) (local.get $qx)))))
        (local.set $r0 (f64x2.mul (f64x2.promote_low_f32x4 (local.get $d)) (local.get $r0)))
        (local.set $r1 (f64x2.mul (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $d) (local.get $d))) (local.get $r1)))
        (v128.store align=4 (local.get $dx) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (f32x4.demote_f64x2_zero (local.get $r0)) (f32x4.demote_f64x2_zero (local.get $r1))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $dx (i32.add (local.get $dx) (i32.const 16)))
        (br $next)))
    (i32.and (local.get $n) (i32.const -4)))
)
