;; The smallest component on which jco and the component model disagree
;; about a resource handle of representation 0: the shape of a deny
;; provider's denied stream, which the component it answers for borrows back
;; on every write.
;;
;; `$provider` defines the resource `stream` and hands out a fresh handle
;; whose representation is the caller's `rep`; its `write` method returns
;; the `self` it received. `$consumer` opens a stream, writes to it (passing
;; `borrow<stream>` back into `$provider`), drops it and returns what
;; `write` received. The app exports the consumer's `run: func(rep: u32) ->
;; u32`.
;;
;; The rule (component model, design/mvp/CanonicalABI.md): `canon
;; resource.new` takes any `i32` as the representation (`ResourceHandle(rt,
;; rep, own = True)`, with no check on `rep`); only handle index 0 is
;; reserved. A borrow passed to the component that implements the resource
;; is lowered as the representation itself (`lower_borrow`: `if cx.inst is
;; t.rt.impl: return rep`). So `run(rep)` returns `rep` for every `rep`,
;; 0 included: wasmtime does so.
;;
;; jco 1.35 creates the handle of representation 0 but traps when it is
;; borrowed: `resourceTransferBorrow` reads the consumer's handle with
;; `rscTableGet`, which takes a representation of 0 for an empty slot and
;; throws `RuntimeError: unknown handle index 3` (3 is the slot's place in
;; its array, for handle 1). jco's resource tables also keep the
;; representation in 30 bits, the 31st marking an owned handle, so a
;; representation of 2^30 or more is misread as well. nanoproc's deny
;; providers therefore make their handles with representation 1.
;;
;; tests/all/runtimes.rs runs `run(1)`, `run(7)` and `run(0)` here in every
;; runtime.
(component
  (component $provider
    (type $stream (resource (rep i32)))
    (core func $new (canon resource.new $stream))
    (core module $m
      (import "" "new" (func $new (param i32) (result i32)))
      (func (export "open") (param i32) (result i32)
        (call $new (local.get 0)))
      ;; `self` arrives as the representation.
      (func (export "write") (param i32) (result i32)
        (local.get 0)))
    (core instance $i (instantiate $m
      (with "" (instance (export "new" (func $new))))))
    (func $open (param "rep" u32) (result (own $stream))
      (canon lift (core func $i "open")))
    (func $write (param "self" (borrow $stream)) (result u32)
      (canon lift (core func $i "write")))
    (export $s "stream" (type $stream))
    (export "open" (func $open) (func (param "rep" u32) (result (own $s))))
    (export "[method]stream.write" (func $write)
      (func (param "self" (borrow $s)) (result u32))))

  (component $consumer
    (import "test:borrow/streams" (instance $streams
      (export "stream" (type (sub resource)))
      (export "open" (func (param "rep" u32) (result (own 0))))
      (export "[method]stream.write" (func (param "self" (borrow 0)) (result u32)))))
    (alias export $streams "stream" (type $stream))
    (core func $open (canon lower (func $streams "open")))
    (core func $write (canon lower (func $streams "[method]stream.write")))
    (core func $drop (canon resource.drop $stream))
    (core module $m
      (import "" "open" (func $open (param i32) (result i32)))
      (import "" "write" (func $write (param i32) (result i32)))
      (import "" "drop" (func $drop (param i32)))
      (func (export "run") (param i32) (result i32)
        (local $handle i32)
        (local $received i32)
        (local.set $handle (call $open (local.get 0)))
        (local.set $received (call $write (local.get $handle)))
        (call $drop (local.get $handle))
        (local.get $received)))
    (core instance $i (instantiate $m
      (with "" (instance
        (export "open" (func $open))
        (export "write" (func $write))
        (export "drop" (func $drop))))))
    (func (export "run") (param "rep" u32) (result u32)
      (canon lift (core func $i "run"))))

  (instance $p (instantiate $provider))
  (instance $c (instantiate $consumer
    (with "test:borrow/streams" (instance $p))))
  (export "run" (func $c "run")))
