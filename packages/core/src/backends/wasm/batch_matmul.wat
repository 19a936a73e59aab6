;; Batched f32 matrix products with 128-bit SIMD, for vitkit's wasm-backend
;; BatchMatMul override (tfjs-backend-wasm's own batched kernel is a scalar
;; loop; only its 2-D path reaches XNNPACK). The host copies operands into this
;; module's memory, calls one export, and copies the product out.
;; Sizes and strides are in elements; pointers are byte offsets.
(module
  (memory (export "memory") 1)

  ;; For each batch item i: C[i] (M x N, row-major) = A[i] * B[i], where
  ;; A[i] element (m, k) is at a + 4 * (i * batchA + m * sam + k * sak) and
  ;; B[i] is row-major K x N at b + 4 * i * batchB (batch strides 0 broadcast).
  ;; Columns go 16 at a time (four accumulators), then 4, then one by one.
  (func (export "matmul")
    (param $a i32) (param $b i32) (param $c i32) (param $batch i32)
    (param $batchA i32) (param $batchB i32)
    (param $M i32) (param $K i32) (param $N i32) (param $sam i32) (param $sak i32)
    (local $i i32) (local $m i32) (local $n i32) (local $k i32)
    (local $aItem i32) (local $bItem i32) (local $cRow i32) (local $aRow i32)
    (local $pa i32) (local $pb i32) (local $rowBytes i32) (local $sakBytes i32)
    (local $av v128) (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local $s f32)
    (local.set $rowBytes (i32.shl (local.get $N) (i32.const 2)))
    (local.set $sakBytes (i32.shl (local.get $sak) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $batchDone
      (loop $batchLoop
        (br_if $batchDone (i32.ge_u (local.get $i) (local.get $batch)))
        (local.set $aItem (i32.add (local.get $a) (i32.shl (i32.mul (local.get $i) (local.get $batchA)) (i32.const 2))))
        (local.set $bItem (i32.add (local.get $b) (i32.shl (i32.mul (local.get $i) (local.get $batchB)) (i32.const 2))))
        (local.set $m (i32.const 0))
        (block $rowsDone
          (loop $rowLoop
            (br_if $rowsDone (i32.ge_u (local.get $m) (local.get $M)))
            (local.set $aRow (i32.add (local.get $aItem) (i32.shl (i32.mul (local.get $m) (local.get $sam)) (i32.const 2))))
            (local.set $cRow (i32.add (local.get $c)
              (i32.shl (i32.add (i32.mul (i32.mul (local.get $i) (local.get $M)) (local.get $N)) (i32.mul (local.get $m) (local.get $N))) (i32.const 2))))
            (local.set $n (i32.const 0))
            ;; 16 columns at a time
            (block $wideDone
              (loop $wideLoop
                (br_if $wideDone (i32.gt_u (i32.add (local.get $n) (i32.const 16)) (local.get $N)))
                (local.set $acc0 (v128.const i32x4 0 0 0 0))
                (local.set $acc1 (v128.const i32x4 0 0 0 0))
                (local.set $acc2 (v128.const i32x4 0 0 0 0))
                (local.set $acc3 (v128.const i32x4 0 0 0 0))
                (local.set $pa (local.get $aRow))
                (local.set $pb (i32.add (local.get $bItem) (i32.shl (local.get $n) (i32.const 2))))
                (local.set $k (local.get $K))
                (block $kDone
                  (loop $kLoop
                    (br_if $kDone (i32.eqz (local.get $k)))
                    (local.set $av (f32x4.splat (f32.load (local.get $pa))))
                    (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (local.get $av) (v128.load align=4 (local.get $pb)))))
                    (local.set $acc1 (f32x4.add (local.get $acc1) (f32x4.mul (local.get $av) (v128.load offset=16 align=4 (local.get $pb)))))
                    (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (local.get $av) (v128.load offset=32 align=4 (local.get $pb)))))
                    (local.set $acc3 (f32x4.add (local.get $acc3) (f32x4.mul (local.get $av) (v128.load offset=48 align=4 (local.get $pb)))))
                    (local.set $pa (i32.add (local.get $pa) (local.get $sakBytes)))
                    (local.set $pb (i32.add (local.get $pb) (local.get $rowBytes)))
                    (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                    (br $kLoop)))
                (v128.store align=4 (i32.add (local.get $cRow) (i32.shl (local.get $n) (i32.const 2))) (local.get $acc0))
                (v128.store offset=16 align=4 (i32.add (local.get $cRow) (i32.shl (local.get $n) (i32.const 2))) (local.get $acc1))
                (v128.store offset=32 align=4 (i32.add (local.get $cRow) (i32.shl (local.get $n) (i32.const 2))) (local.get $acc2))
                (v128.store offset=48 align=4 (i32.add (local.get $cRow) (i32.shl (local.get $n) (i32.const 2))) (local.get $acc3))
                (local.set $n (i32.add (local.get $n) (i32.const 16)))
                (br $wideLoop)))
            ;; 4 columns at a time
            (block $quadDone
              (loop $quadLoop
                (br_if $quadDone (i32.gt_u (i32.add (local.get $n) (i32.const 4)) (local.get $N)))
                (local.set $acc0 (v128.const i32x4 0 0 0 0))
                (local.set $pa (local.get $aRow))
                (local.set $pb (i32.add (local.get $bItem) (i32.shl (local.get $n) (i32.const 2))))
                (local.set $k (local.get $K))
                (block $kDone4
                  (loop $kLoop4
                    (br_if $kDone4 (i32.eqz (local.get $k)))
                    (local.set $acc0 (f32x4.add (local.get $acc0)
                      (f32x4.mul (f32x4.splat (f32.load (local.get $pa))) (v128.load align=4 (local.get $pb)))))
                    (local.set $pa (i32.add (local.get $pa) (local.get $sakBytes)))
                    (local.set $pb (i32.add (local.get $pb) (local.get $rowBytes)))
                    (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                    (br $kLoop4)))
                (v128.store align=4 (i32.add (local.get $cRow) (i32.shl (local.get $n) (i32.const 2))) (local.get $acc0))
                (local.set $n (i32.add (local.get $n) (i32.const 4)))
                (br $quadLoop)))
            ;; the remaining columns one by one
            (block $oneDone
              (loop $oneLoop
                (br_if $oneDone (i32.ge_u (local.get $n) (local.get $N)))
                (local.set $s (f32.const 0))
                (local.set $pa (local.get $aRow))
                (local.set $pb (i32.add (local.get $bItem) (i32.shl (local.get $n) (i32.const 2))))
                (local.set $k (local.get $K))
                (block $kDone1
                  (loop $kLoop1
                    (br_if $kDone1 (i32.eqz (local.get $k)))
                    (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $pa)) (f32.load (local.get $pb)))))
                    (local.set $pa (i32.add (local.get $pa) (local.get $sakBytes)))
                    (local.set $pb (i32.add (local.get $pb) (local.get $rowBytes)))
                    (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                    (br $kLoop1)))
                (f32.store (i32.add (local.get $cRow) (i32.shl (local.get $n) (i32.const 2))) (local.get $s))
                (local.set $n (i32.add (local.get $n) (i32.const 1)))
                (br $oneLoop)))
            (local.set $m (i32.add (local.get $m) (i32.const 1)))
            (br $rowLoop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $batchLoop))))

  ;; dst[i] (C x R) = transpose of src[i] (R x C), for i < batch: makes a
  ;; transposed right operand row-major for matmul.
  (func (export "transpose")
    (param $src i32) (param $dst i32) (param $batch i32) (param $R i32) (param $C i32)
    (local $i i32) (local $r i32) (local $col i32) (local $ps i32) (local $pd i32) (local $item i32)
    (local.set $item (i32.shl (i32.mul (local.get $R) (local.get $C)) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $done
      (loop $items
        (br_if $done (i32.ge_u (local.get $i) (local.get $batch)))
        (local.set $r (i32.const 0))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $R)))
            (local.set $ps (i32.add (local.get $src) (i32.shl (i32.mul (local.get $r) (local.get $C)) (i32.const 2))))
            (local.set $pd (i32.add (local.get $dst) (i32.shl (local.get $r) (i32.const 2))))
            (local.set $col (local.get $C))
            (block $colsDone
              (loop $cols
                (br_if $colsDone (i32.eqz (local.get $col)))
                (f32.store (local.get $pd) (f32.load (local.get $ps)))
                (local.set $ps (i32.add (local.get $ps) (i32.const 4)))
                (local.set $pd (i32.add (local.get $pd) (i32.shl (local.get $R) (i32.const 2))))
                (local.set $col (i32.sub (local.get $col) (i32.const 1)))
                (br $cols)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rows)))
        (local.set $src (i32.add (local.get $src) (local.get $item)))
        (local.set $dst (i32.add (local.get $dst) (local.get $item)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $items))))
)
