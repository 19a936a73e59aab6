;; LayerNorm over the last axis, forward and backward, with 128-bit SIMD, in
;; place on tfjs-backend-wasm's memory (imported; see heap_kernels.wat), for
;; vitkit's fused LayerNorm kernels on wasm. The same arithmetic as their JS
;; loops (fused/layer_norm.ts, which the cpu backend runs): statistics,
;; normalization and gradients in double, each output rounded once to
;; float32; four elements per step as two f64x2 halves, the last dim % 4 one
;; at a time. Pointers are byte offsets, counts are elements. The f32 <-> f64
;; conversions are written out inline: V8 does not inline small wasm
;; functions, and a call per four elements costs more than the arithmetic.
;;
;; variants: shared
(module
  (import "env" "memory" (memory 1))

  ;; y = (x - mean) rstd gamma + beta per row of `dim`; mean and rstd =
  ;; 1 / sqrt(biased variance + eps) per row are outputs too.
  (func (export "layer_norm")
    (param $x i32) (param $g i32) (param $b i32) (param $y i32) (param $mean i32) (param $rstd i32)
    (param $rows i32) (param $dim i32) (param $eps f64)
    (local $r i32) (local $j i32) (local $px i32) (local $py i32) (local $dim4 i32) (local $rowBytes i32)
    (local $acc v128) (local $v v128) (local $a v128) (local $c v128) (local $muv v128) (local $rsv v128)
    (local $s f64) (local $mu f64) (local $rs f64) (local $d f64)
    (local.set $dim4 (i32.and (local.get $dim) (i32.const -4)))
    (local.set $rowBytes (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $r (i32.const 0))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $px (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $rowBytes))))
        (local.set $py (i32.add (local.get $y) (i32.mul (local.get $r) (local.get $rowBytes))))
        ;; mean
        (local.set $acc (v128.const i64x2 0 0))
        (local.set $j (i32.const 0))
        (block $d1 (loop $l1
          (br_if $d1 (i32.ge_u (local.get $j) (local.get $dim4)))
          (local.set $v (v128.load align=4 (i32.add (local.get $px) (i32.shl (local.get $j) (i32.const 2)))))
          (local.set $acc (f64x2.add (local.get $acc) (f64x2.add (f64x2.promote_low_f32x4 (local.get $v)) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v))))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $l1)))
        (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
        (block $t1 (loop $tl1
          (br_if $t1 (i32.ge_u (local.get $j) (local.get $dim)))
          (local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32.load (i32.add (local.get $px) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $tl1)))
        (local.set $mu (f64.div (local.get $s) (f64.convert_i32_u (local.get $dim))))
        (local.set $muv (f64x2.splat (local.get $mu)))
        ;; variance, from the deviations
        (local.set $acc (v128.const i64x2 0 0))
        (local.set $j (i32.const 0))
        (block $d2 (loop $l2
          (br_if $d2 (i32.ge_u (local.get $j) (local.get $dim4)))
          (local.set $v (v128.load align=4 (i32.add (local.get $px) (i32.shl (local.get $j) (i32.const 2)))))
          (local.set $a (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $muv)))
          (local.set $c (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v))) (local.get $muv)))
          (local.set $acc (f64x2.add (local.get $acc) (f64x2.add (f64x2.mul (local.get $a) (local.get $a)) (f64x2.mul (local.get $c) (local.get $c)))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $l2)))
        (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
        (block $t2 (loop $tl2
          (br_if $t2 (i32.ge_u (local.get $j) (local.get $dim)))
          (local.set $d (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $px) (i32.shl (local.get $j) (i32.const 2))))) (local.get $mu)))
          (local.set $s (f64.add (local.get $s) (f64.mul (local.get $d) (local.get $d))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $tl2)))
        (local.set $rs (f64.div (f64.const 1)
          (f64.sqrt (f64.add (f64.div (local.get $s) (f64.convert_i32_u (local.get $dim))) (local.get $eps)))))
        (local.set $rsv (f64x2.splat (local.get $rs)))
        (f32.store (i32.add (local.get $mean) (i32.shl (local.get $r) (i32.const 2))) (f32.demote_f64 (local.get $mu)))
        (f32.store (i32.add (local.get $rstd) (i32.shl (local.get $r) (i32.const 2))) (f32.demote_f64 (local.get $rs)))
        ;; y = ((x - mu) rs) gamma + beta
        (local.set $j (i32.const 0))
        (block $d3 (loop $l3
          (br_if $d3 (i32.ge_u (local.get $j) (local.get $dim4)))
          (local.set $v (v128.load align=4 (i32.add (local.get $px) (i32.shl (local.get $j) (i32.const 2)))))
          (local.set $a (v128.load align=4 (i32.add (local.get $g) (i32.shl (local.get $j) (i32.const 2)))))
          (local.set $c (v128.load align=4 (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2)))))
          (v128.store align=4 (i32.add (local.get $py) (i32.shl (local.get $j) (i32.const 2)))
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
              (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $muv)) (local.get $rsv)) (f64x2.promote_low_f32x4 (local.get $a))) (f64x2.promote_low_f32x4 (local.get $c))))
              (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v))) (local.get $muv)) (local.get $rsv)) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $a) (local.get $a)))) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $c) (local.get $c)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $l3)))
        (block $t3 (loop $tl3
          (br_if $t3 (i32.ge_u (local.get $j) (local.get $dim)))
          (f32.store (i32.add (local.get $py) (i32.shl (local.get $j) (i32.const 2)))
            (f32.demote_f64 (f64.add
              (f64.mul (f64.mul (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $px) (i32.shl (local.get $j) (i32.const 2))))) (local.get $mu)) (local.get $rs))
                (f64.promote_f32 (f32.load (i32.add (local.get $g) (i32.shl (local.get $j) (i32.const 2))))))
              (f64.promote_f32 (f32.load (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $tl3)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowLoop))))

  ;; With xhat = (x - mean) rstd and g = dy gamma per row:
  ;;   dx = rstd (g - mean_j(g) - xhat mean_j(g xhat)),
  ;;   dgamma = sum_rows dy xhat, dbeta = sum_rows dy,
  ;; the column sums accumulated in double in `scratch` (16 dim bytes, which
  ;; the host allocates; zeroed here).
  (func (export "layer_norm_grad")
    (param $dy i32) (param $x i32) (param $g i32) (param $mean i32) (param $rstd i32)
    (param $dx i32) (param $dg i32) (param $db i32) (param $scratch i32) (param $rows i32) (param $dim i32)
    (local $r i32) (local $j i32) (local $o i32) (local $dim4 i32) (local $rowBytes i32) (local $sdb i32) (local $p i32)
    (local $xv v128) (local $dv v128) (local $gv v128) (local $xl v128) (local $xh v128) (local $dl v128) (local $dh v128)
    (local $gl v128) (local $gh v128) (local $sg v128) (local $sgx v128) (local $muv v128) (local $rsv v128) (local $mgv v128) (local $mgxv v128)
    (local $mu f64) (local $rs f64) (local $sumG f64) (local $sumGX f64) (local $mG f64) (local $mGX f64)
    (local $xs f64) (local $ds f64) (local $gs f64)
    (local.set $dim4 (i32.and (local.get $dim) (i32.const -4)))
    (local.set $rowBytes (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $sdb (i32.add (local.get $scratch) (i32.shl (local.get $dim) (i32.const 3))))
    (local.set $j (i32.const 0))
    (block $z (loop $zl
      (br_if $z (i32.ge_u (local.get $j) (i32.shl (local.get $dim) (i32.const 1))))
      (f64.store (i32.add (local.get $scratch) (i32.shl (local.get $j) (i32.const 3))) (f64.const 0))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $zl)))
    (local.set $r (i32.const 0))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $o (i32.mul (local.get $r) (local.get $rowBytes)))
        (local.set $mu (f64.promote_f32 (f32.load (i32.add (local.get $mean) (i32.shl (local.get $r) (i32.const 2))))))
        (local.set $rs (f64.promote_f32 (f32.load (i32.add (local.get $rstd) (i32.shl (local.get $r) (i32.const 2))))))
        (local.set $muv (f64x2.splat (local.get $mu)))
        (local.set $rsv (f64x2.splat (local.get $rs)))
        ;; pass 1: the row's sums of g and g xhat, and the column sums
        (local.set $sg (v128.const i64x2 0 0))
        (local.set $sgx (v128.const i64x2 0 0))
        (local.set $j (i32.const 0))
        (block $d1 (loop $l1
          (br_if $d1 (i32.ge_u (local.get $j) (local.get $dim4)))
          (local.set $p (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $xv (v128.load align=4 (i32.add (local.get $x) (local.get $p))))
          (local.set $dv (v128.load align=4 (i32.add (local.get $dy) (local.get $p))))
          (local.set $gv (v128.load align=4 (i32.add (local.get $g) (i32.shl (local.get $j) (i32.const 2)))))
          (local.set $xl (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (local.get $xv)) (local.get $muv)) (local.get $rsv)))
          (local.set $xh (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $xv) (local.get $xv))) (local.get $muv)) (local.get $rsv)))
          (local.set $dl (f64x2.promote_low_f32x4 (local.get $dv)))
          (local.set $dh (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $dv) (local.get $dv))))
          (local.set $gl (f64x2.mul (local.get $dl) (f64x2.promote_low_f32x4 (local.get $gv))))
          (local.set $gh (f64x2.mul (local.get $dh) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $gv) (local.get $gv)))))
          (local.set $sg (f64x2.add (local.get $sg) (f64x2.add (local.get $gl) (local.get $gh))))
          (local.set $sgx (f64x2.add (local.get $sgx) (f64x2.add (f64x2.mul (local.get $gl) (local.get $xl)) (f64x2.mul (local.get $gh) (local.get $xh)))))
          (local.set $p (i32.add (local.get $scratch) (i32.shl (local.get $j) (i32.const 3))))
          (v128.store align=8 (local.get $p) (f64x2.add (v128.load align=8 (local.get $p)) (f64x2.mul (local.get $dl) (local.get $xl))))
          (v128.store offset=16 align=8 (local.get $p) (f64x2.add (v128.load offset=16 align=8 (local.get $p)) (f64x2.mul (local.get $dh) (local.get $xh))))
          (local.set $p (i32.add (local.get $sdb) (i32.shl (local.get $j) (i32.const 3))))
          (v128.store align=8 (local.get $p) (f64x2.add (v128.load align=8 (local.get $p)) (local.get $dl)))
          (v128.store offset=16 align=8 (local.get $p) (f64x2.add (v128.load offset=16 align=8 (local.get $p)) (local.get $dh)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $l1)))
        (local.set $sumG (f64.add (f64x2.extract_lane 0 (local.get $sg)) (f64x2.extract_lane 1 (local.get $sg))))
        (local.set $sumGX (f64.add (f64x2.extract_lane 0 (local.get $sgx)) (f64x2.extract_lane 1 (local.get $sgx))))
        (block $t1 (loop $tl1
          (br_if $t1 (i32.ge_u (local.get $j) (local.get $dim)))
          (local.set $p (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $xs (f64.mul (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $x) (local.get $p)))) (local.get $mu)) (local.get $rs)))
          (local.set $ds (f64.promote_f32 (f32.load (i32.add (local.get $dy) (local.get $p)))))
          (local.set $gs (f64.mul (local.get $ds) (f64.promote_f32 (f32.load (i32.add (local.get $g) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $sumG (f64.add (local.get $sumG) (local.get $gs)))
          (local.set $sumGX (f64.add (local.get $sumGX) (f64.mul (local.get $gs) (local.get $xs))))
          (local.set $p (i32.add (local.get $scratch) (i32.shl (local.get $j) (i32.const 3))))
          (f64.store (local.get $p) (f64.add (f64.load (local.get $p)) (f64.mul (local.get $ds) (local.get $xs))))
          (local.set $p (i32.add (local.get $sdb) (i32.shl (local.get $j) (i32.const 3))))
          (f64.store (local.get $p) (f64.add (f64.load (local.get $p)) (local.get $ds)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $tl1)))
        (local.set $mG (f64.div (local.get $sumG) (f64.convert_i32_u (local.get $dim))))
        (local.set $mGX (f64.div (local.get $sumGX) (f64.convert_i32_u (local.get $dim))))
        (local.set $mgv (f64x2.splat (local.get $mG)))
        (local.set $mgxv (f64x2.splat (local.get $mGX)))
        ;; pass 2: dx = rs (dy gamma - mG - xhat mGX)
        (local.set $j (i32.const 0))
        (block $d2 (loop $l2
          (br_if $d2 (i32.ge_u (local.get $j) (local.get $dim4)))
          (local.set $p (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $xv (v128.load align=4 (i32.add (local.get $x) (local.get $p))))
          (local.set $dv (v128.load align=4 (i32.add (local.get $dy) (local.get $p))))
          (local.set $gv (v128.load align=4 (i32.add (local.get $g) (i32.shl (local.get $j) (i32.const 2)))))
          (local.set $xl (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (local.get $xv)) (local.get $muv)) (local.get $rsv)))
          (local.set $xh (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $xv) (local.get $xv))) (local.get $muv)) (local.get $rsv)))
          (v128.store align=4 (i32.add (local.get $dx) (local.get $p))
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
              (f32x4.demote_f64x2_zero (f64x2.mul (local.get $rsv) (f64x2.sub (f64x2.sub (f64x2.mul (f64x2.promote_low_f32x4 (local.get $dv)) (f64x2.promote_low_f32x4 (local.get $gv))) (local.get $mgv)) (f64x2.mul (local.get $xl) (local.get $mgxv)))))
              (f32x4.demote_f64x2_zero (f64x2.mul (local.get $rsv) (f64x2.sub (f64x2.sub (f64x2.mul (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $dv) (local.get $dv))) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $gv) (local.get $gv)))) (local.get $mgv)) (f64x2.mul (local.get $xh) (local.get $mgxv)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $l2)))
        (block $t2 (loop $tl2
          (br_if $t2 (i32.ge_u (local.get $j) (local.get $dim)))
          (local.set $p (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $xs (f64.mul (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $x) (local.get $p)))) (local.get $mu)) (local.get $rs)))
          (f32.store (i32.add (local.get $dx) (local.get $p))
            (f32.demote_f64 (f64.mul (local.get $rs)
              (f64.sub
                (f64.sub
                  (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $dy) (local.get $p))))
                    (f64.promote_f32 (f32.load (i32.add (local.get $g) (i32.shl (local.get $j) (i32.const 2))))))
                  (local.get $mG))
                (f64.mul (local.get $xs) (local.get $mGX))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $tl2)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowLoop)))
    ;; dgamma and dbeta, rounded once
    (local.set $j (i32.const 0))
    (block $w (loop $wl
      (br_if $w (i32.ge_u (local.get $j) (local.get $dim)))
      (f32.store (i32.add (local.get $dg) (i32.shl (local.get $j) (i32.const 2)))
        (f32.demote_f64 (f64.load (i32.add (local.get $scratch) (i32.shl (local.get $j) (i32.const 3))))))
      (f32.store (i32.add (local.get $db) (i32.shl (local.get $j) (i32.const 2)))
        (f32.demote_f64 (f64.load (i32.add (local.get $sdb) (i32.shl (local.get $j) (i32.const 3))))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $wl)))
  )
)
