;; Copy-bound kernels that run in place on tfjs-backend-wasm's own heap, for
;; vitkit's wasm Transpose, Sum, Slice/SplitV and Concat overrides. tfjs's Transpose is a generic
;; scalar n-d loop (~13 ns per element on [2048, 288]), and its Sum over
;; leading axes (every bias gradient) transposes first: together ~30 % of a
;; small model's training step. This module imports the backend's memory, so
;; nothing is copied in or out; the host passes byte offsets of tensors the
;; backend allocated. Built twice by scripts/build-wasm-kernels.mjs: with the
;; memory as written, unshared and without a maximum (tfjs's single-threaded
;; builds), and shared with tfjs's 4 GiB maximum (its threaded build): an
;; imported memory must match the declaration.
;;
;; variants: shared
(module
  (import "env" "memory" (memory 1))

  ;; dst[b][j][i][e] = src[b][i][j][e] for b < batch, i < rows, j < cols,
  ;; e < inner: swaps two axes of a [batch, rows, cols, inner] array.
  ;; inner = 1 goes by 4x4 blocks (four row loads, eight shuffles, four
  ;; column stores); larger inner copies runs of `inner` floats.
  (func (export "transpose")
    (param $src i32) (param $dst i32) (param $batch i32) (param $rows i32) (param $cols i32) (param $inner i32)
    (local $b i32) (local $i i32) (local $j i32) (local $e i32)
    (local $s i32) (local $d i32) (local $itemBytes i32) (local $rowBytes i32) (local $colBytes i32)
    (local $rows4 i32) (local $cols4 i32) (local $ps i32) (local $pd i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $itemBytes (i32.shl (i32.mul (i32.mul (local.get $rows) (local.get $cols)) (local.get $inner)) (i32.const 2)))
    (local.set $b (i32.const 0))
    (block $batchDone
      (loop $batchLoop
        (br_if $batchDone (i32.ge_u (local.get $b) (local.get $batch)))
        (local.set $s (i32.add (local.get $src) (i32.mul (local.get $b) (local.get $itemBytes))))
        (local.set $d (i32.add (local.get $dst) (i32.mul (local.get $b) (local.get $itemBytes))))
        (if (i32.eq (local.get $inner) (i32.const 1))
          (then
            ;; src row stride and dst row stride in bytes
            (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))
            (local.set $colBytes (i32.shl (local.get $rows) (i32.const 2)))
            (local.set $rows4 (i32.and (local.get $rows) (i32.const -4)))
            (local.set $cols4 (i32.and (local.get $cols) (i32.const -4)))
            ;; Column strips outer, rows inner: the four output rows a strip
            ;; writes are written front to back (a power-of-two row stride in
            ;; the other order makes every store miss).
            (local.set $j (i32.const 0))
            (block $stripsDone
              (loop $stripLoop
                (br_if $stripsDone (i32.ge_u (local.get $j) (local.get $cols4)))
                (local.set $i (i32.const 0))
                (block $blocksDone
                  (loop $blockLoop
                    (br_if $blocksDone (i32.ge_u (local.get $i) (local.get $rows4)))
                    (local.set $ps (i32.add (local.get $s)
                      (i32.shl (i32.add (i32.mul (local.get $i) (local.get $cols)) (local.get $j)) (i32.const 2))))
                    (local.set $r0 (v128.load align=4 (local.get $ps)))
                    (local.set $ps (i32.add (local.get $ps) (local.get $rowBytes)))
                    (local.set $r1 (v128.load align=4 (local.get $ps)))
                    (local.set $ps (i32.add (local.get $ps) (local.get $rowBytes)))
                    (local.set $r2 (v128.load align=4 (local.get $ps)))
                    (local.set $ps (i32.add (local.get $ps) (local.get $rowBytes)))
                    (local.set $r3 (v128.load align=4 (local.get $ps)))
                    ;; t0 = a0 b0 a1 b1, t1 = a2 b2 a3 b3, t2 = c0 d0 c1 d1, t3 = c2 d2 c3 d3
                    (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
                    (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
                    (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
                    (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
                    (local.set $pd (i32.add (local.get $d)
                      (i32.shl (i32.add (i32.mul (local.get $j) (local.get $rows)) (local.get $i)) (i32.const 2))))
                    (v128.store align=4 (local.get $pd)
                      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                    (local.set $pd (i32.add (local.get $pd) (local.get $colBytes)))
                    (v128.store align=4 (local.get $pd)
                      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                    (local.set $pd (i32.add (local.get $pd) (local.get $colBytes)))
                    (v128.store align=4 (local.get $pd)
                      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                    (local.set $pd (i32.add (local.get $pd) (local.get $colBytes)))
                    (v128.store align=4 (local.get $pd)
                      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                    (local.set $i (i32.add (local.get $i) (i32.const 4)))
                    (br $blockLoop)))
                ;; the strip's last rows (fewer than four), one element at a time
                (block $edgeRowsDone
                  (loop $edgeRowLoop
                    (br_if $edgeRowsDone (i32.ge_u (local.get $i) (local.get $rows)))
                    (local.set $e (local.get $j))
                    (block $edgeColsDone
                      (loop $edgeColLoop
                        (br_if $edgeColsDone (i32.ge_u (local.get $e) (i32.add (local.get $j) (i32.const 4))))
                        (f32.store
                          (i32.add (local.get $d) (i32.shl (i32.add (i32.mul (local.get $e) (local.get $rows)) (local.get $i)) (i32.const 2)))
                          (f32.load (i32.add (local.get $s) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $cols)) (local.get $e)) (i32.const 2)))))
                        (local.set $e (i32.add (local.get $e) (i32.const 1)))
                        (br $edgeColLoop)))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br $edgeRowLoop)))
                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                (br $stripLoop)))
            ;; the last columns (fewer than four), one element at a time
            (block $lastColsDone
              (loop $lastColLoop
                (br_if $lastColsDone (i32.ge_u (local.get $j) (local.get $cols)))
                (local.set $i (i32.const 0))
                (block $lastRowsDone
                  (loop $lastRowLoop
                    (br_if $lastRowsDone (i32.ge_u (local.get $i) (local.get $rows)))
                    (f32.store
                      (i32.add (local.get $d) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $rows)) (local.get $i)) (i32.const 2)))
                      (f32.load (i32.add (local.get $s) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $cols)) (local.get $j)) (i32.const 2)))))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br $lastRowLoop)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $lastColLoop))))
          (else
            ;; runs of `inner` floats: four at a time, then one at a time
            (local.set $i (i32.const 0))
            (block $runRowsDone
              (loop $runRowLoop
                (br_if $runRowsDone (i32.ge_u (local.get $i) (local.get $rows)))
                (local.set $j (i32.const 0))
                (block $runColsDone
                  (loop $runColLoop
                    (br_if $runColsDone (i32.ge_u (local.get $j) (local.get $cols)))
                    (local.set $ps (i32.add (local.get $s)
                      (i32.shl (i32.mul (i32.add (i32.mul (local.get $i) (local.get $cols)) (local.get $j)) (local.get $inner)) (i32.const 2))))
                    (local.set $pd (i32.add (local.get $d)
                      (i32.shl (i32.mul (i32.add (i32.mul (local.get $j) (local.get $rows)) (local.get $i)) (local.get $inner)) (i32.const 2))))
                    (local.set $e (i32.const 0))
                    (block $vecDone
                      (loop $vecLoop
                        (br_if $vecDone (i32.gt_u (i32.add (local.get $e) (i32.const 4)) (local.get $inner)))
                        (v128.store align=4 (local.get $pd) (v128.load align=4 (local.get $ps)))
                        (local.set $ps (i32.add (local.get $ps) (i32.const 16)))
                        (local.set $pd (i32.add (local.get $pd) (i32.const 16)))
                        (local.set $e (i32.add (local.get $e) (i32.const 4)))
                        (br $vecLoop)))
                    (block $tailDone
                      (loop $tailLoop
                        (br_if $tailDone (i32.ge_u (local.get $e) (local.get $inner)))
                        (f32.store (local.get $pd) (f32.load (local.get $ps)))
                        (local.set $ps (i32.add (local.get $ps) (i32.const 4)))
                        (local.set $pd (i32.add (local.get $pd) (i32.const 4)))
                        (local.set $e (i32.add (local.get $e) (i32.const 1)))
                        (br $tailLoop)))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br $runColLoop)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $runRowLoop)))))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $batchLoop))))

  ;; dst[j] = sum over i < rows of src[i * cols + j], for j < cols: column
  ;; sums (a reduction over leading axes), accumulated in double from the
  ;; first row to the last and rounded once. Four columns per pass over the
  ;; rows (two f64x2 accumulators), the last columns one at a time.
  (func (export "colsum") (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32)
    (local $i i32) (local $j i32) (local $p i32) (local $rowBytes i32) (local $cols4 i32)
    (local $v v128) (local $lo v128) (local $hi v128) (local $acc f64)
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $cols4 (i32.and (local.get $cols) (i32.const -4)))
    (local.set $j (i32.const 0))
    (block $quadsDone
      (loop $quadLoop
        (br_if $quadsDone (i32.ge_u (local.get $j) (local.get $cols4)))
        (local.set $lo (v128.const i64x2 0 0))
        (local.set $hi (v128.const i64x2 0 0))
        (local.set $p (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $i (i32.const 0))
        (block $rowsDone
          (loop $rowLoop
            (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $rows)))
            (local.set $v (v128.load align=4 (local.get $p)))
            (local.set $lo (f64x2.add (local.get $lo) (f64x2.promote_low_f32x4 (local.get $v))))
            (local.set $hi (f64x2.add (local.get $hi)
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))))
            (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $rowLoop)))
        (v128.store align=4 (i32.add (local.get $dst) (i32.shl (local.get $j) (i32.const 2)))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $quadLoop)))
    (block $colsDone
      (loop $colLoop
        (br_if $colsDone (i32.ge_u (local.get $j) (local.get $cols)))
        (local.set $acc (f64.const 0))
        (local.set $p (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $i (i32.const 0))
        (block $colRowsDone
          (loop $colRowLoop
            (br_if $colRowsDone (i32.ge_u (local.get $i) (local.get $rows)))
            (local.set $acc (f64.add (local.get $acc) (f64.promote_f32 (f32.load (local.get $p)))))
            (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $colRowLoop)))
        (f32.store (i32.add (local.get $dst) (i32.shl (local.get $j) (i32.const 2))) (f32.demote_f64 (local.get $acc)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $colLoop))))

  ;; Copies `rows` runs of `rowBytes` bytes, the source's runs `srcStride`
  ;; bytes apart and the destination's `dstStride` apart (Slice, SplitV and
  ;; Concat of any dtype: one call per block instead of one JS copy per run).
  (func (export "copy_block")
    (param $src i32) (param $dst i32) (param $rows i32) (param $rowBytes i32) (param $srcStride i32) (param $dstStride i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $rows)))
        (memory.copy (local.get $dst) (local.get $src) (local.get $rowBytes))
        (local.set $src (i32.add (local.get $src) (local.get $srcStride)))
        (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $next))))
)
