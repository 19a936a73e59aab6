;; GELU (exact erf, tanh approximation, QuickGELU) forward and backward with
;; 128-bit SIMD, for vitkit's fused GELU kernels (tfjs runs exact GELU as five
;; launches: Mul, Erf, Add, Mul, Mul, with a scalar erf). The host copies operands into this module's memory, calls one
;; export, and copies the result out. Pointers are byte offsets, n counts
;; elements; elements go four at a time (one f32x4 load, computed as two f64x2
;; halves in double precision, one store), so the host pads every array to a
;; multiple of 4. Four at a time is ~2x faster than two: V8 does not inline
;; the helper calls, so fewer calls per element pay.
;;
;; erf: the rational approximation Eigen and XLA use for float32,
;; x P(x^2) / Q(x^2) on x clamped to [-4, 4], evaluated here in double: max
;; error 6.5e-8 against the exact erf (in float32 arithmetic it would be 4e-7).
;; exp (exact GELU's backward, tanh, sigmoid): exp(t) = 2^k exp(r), r = t - k ln 2, |r| <= ln2 / 2,
;; Taylor polynomial of degree 10 (relative error < 1e-12), t clamped to
;; [-700, 700].
(module
  (memory (export "memory") 1)

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
    (f64x2.div (f64x2.mul (local.get $x) (local.get $p)) (local.get $q)))

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
    (local $end i32) (local $v v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $v (v128.load align=4 (local.get $x)))
        (v128.store align=4 (local.get $y)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (call $erf (f64x2.promote_low_f32x4 (local.get $v))))
            (f32x4.demote_f64x2_zero (call $erf (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
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
    (local $end i32) (local $v v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $v (v128.load align=4 (local.get $x)))
        (v128.store align=4 (local.get $y)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (call $act (f64x2.promote_low_f32x4 (local.get $v)) (local.get $mode)))
            (f32x4.demote_f64x2_zero (call $act (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $mode)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (br $next))))

  ;; dx = dy act'(x), elementwise.
  (func (export "gelu_grad") (param $x i32) (param $dy i32) (param $dx i32) (param $n i32) (param $mode i32)
    (local $end i32) (local $v v128) (local $d v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $v (v128.load align=4 (local.get $x)))
        (local.set $d (v128.load align=4 (local.get $dy)))
        (v128.store align=4 (local.get $dx)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero
              (f64x2.mul (f64x2.promote_low_f32x4 (local.get $d)) (call $actGrad (f64x2.promote_low_f32x4 (local.get $v)) (local.get $mode))))
            (f32x4.demote_f64x2_zero
              (f64x2.mul (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $d) (local.get $d)))
                (call $actGrad (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $mode))))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $dx (i32.add (local.get $dx) (i32.const 16)))
        (br $next))))
)
