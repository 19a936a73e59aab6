;; One AdamW update of one parameter tensor with 128-bit SIMD, in place on
;; tfjs-backend-wasm's memory (imported; see heap_kernels.wat), for the fused
;; AdamW kernel on wasm. The same arithmetic as its JS loop
;; (fused/adamw.ts: torch 1.13's _single_tensor_adamw op by op, each op
;; rounded to float32), so the result is bit-identical: f32x4 products,
;; quotients and sqrt are correctly rounded as Math.fround of the double
;; results is, and the first moment's fused multiply-add is computed in
;; double and rounded once, as the JS does. Four elements per step, the
;; last n % 4 one at a time. Pointers are byte offsets, n counts elements.
;;
;; variants: shared
(module
  (import "env" "memory" (memory 1))

  (func (export "adamw")
    (param $p i32) (param $g i32) (param $m i32) (param $v i32)
    (param $pOut i32) (param $mOut i32) (param $vOut i32) (param $n i32)
    (param $decay f32) (param $c1 f32) (param $b1 f32) (param $b2 f32) (param $c2 f32)
    (param $bc2Sqrt f32) (param $eps f32) (param $negStep f32)
    (local $i i32) (local $o i32) (local $n4 i32)
    (local $gv v128) (local $mv v128) (local $vv v128) (local $pv v128) (local $t v128) (local $c1d v128)
    (local $gs f32) (local $ms f32) (local $vs f32) (local $ps f32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $c1d (f64x2.splat (f64.promote_f32 (local.get $c1))))
    (local.set $i (i32.const 0))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n4)))
      (local.set $o (i32.shl (local.get $i) (i32.const 2)))
      (local.set $gv (v128.load align=4 (i32.add (local.get $g) (local.get $o))))
      ;; m = f32(g c1 + f32(m b1)), the sum in double
      (local.set $t (f32x4.mul (v128.load align=4 (i32.add (local.get $m) (local.get $o))) (f32x4.splat (local.get $b1))))
      (local.set $mv
        (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero
            (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (local.get $gv)) (local.get $c1d)) (f64x2.promote_low_f32x4 (local.get $t))))
          (f32x4.demote_f64x2_zero
            (f64x2.add
              (f64x2.mul (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $gv) (local.get $gv))) (local.get $c1d))
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $t) (local.get $t)))))))
      ;; v = f32(v b2) + f32(f32(c2 g) g)
      (local.set $vv (f32x4.add
        (f32x4.mul (v128.load align=4 (i32.add (local.get $v) (local.get $o))) (f32x4.splat (local.get $b2)))
        (f32x4.mul (f32x4.mul (f32x4.splat (local.get $c2)) (local.get $gv)) (local.get $gv))))
      ;; p = f32(p decay) + f32(f32(negStep m) / (f32(sqrt(v)) / bc2Sqrt + eps))
      (local.set $pv (f32x4.mul (v128.load align=4 (i32.add (local.get $p) (local.get $o))) (f32x4.splat (local.get $decay))))
      (local.set $pv (f32x4.add (local.get $pv)
        (f32x4.div (f32x4.mul (f32x4.splat (local.get $negStep)) (local.get $mv))
          (f32x4.add (f32x4.div (f32x4.sqrt (local.get $vv)) (f32x4.splat (local.get $bc2Sqrt))) (f32x4.splat (local.get $eps))))))
      (v128.store align=4 (i32.add (local.get $mOut) (local.get $o)) (local.get $mv))
      (v128.store align=4 (i32.add (local.get $vOut) (local.get $o)) (local.get $vv))
      (v128.store align=4 (i32.add (local.get $pOut) (local.get $o)) (local.get $pv))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l)))
    (block $td (loop $tl
      (br_if $td (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $o (i32.shl (local.get $i) (i32.const 2)))
      (local.set $gs (f32.load (i32.add (local.get $g) (local.get $o))))
      (local.set $ms (f32.demote_f64 (f64.add
        (f64.mul (f64.promote_f32 (local.get $gs)) (f64.promote_f32 (local.get $c1)))
        (f64.promote_f32 (f32.mul (f32.load (i32.add (local.get $m) (local.get $o))) (local.get $b1))))))
      (local.set $vs (f32.add
        (f32.mul (f32.load (i32.add (local.get $v) (local.get $o))) (local.get $b2))
        (f32.mul (f32.mul (local.get $c2) (local.get $gs)) (local.get $gs))))
      (local.set $ps (f32.add
        (f32.mul (f32.load (i32.add (local.get $p) (local.get $o))) (local.get $decay))
        (f32.div (f32.mul (local.get $negStep) (local.get $ms))
          (f32.add (f32.div (f32.sqrt (local.get $vs)) (local.get $bc2Sqrt)) (local.get $eps)))))
      (f32.store (i32.add (local.get $mOut) (local.get $o)) (local.get $ms))
      (f32.store (i32.add (local.get $vOut) (local.get $o)) (local.get $vs))
      (f32.store (i32.add (local.get $pOut) (local.get $o)) (local.get $ps))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $tl)))
  )
)
