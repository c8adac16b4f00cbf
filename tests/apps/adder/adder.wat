;; An app exporting `add` twice, at the top and in the interface
;; `docs:adder/add@0.1.0` (where it adds 100 more), and a resource with a
;; constructor, a static function and a method: the names a call must tell
;; apart.
(component
  (core module $m
    (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
    (func (export "add100") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add i32.const 100 i32.add)
    (func (export "get-a") (result i32) i32.const 7)
    (func (export "get-b") (param i32) (result i32) local.get 0)
  )
  (core instance $i (instantiate $m))
  (type $scalars (resource (rep i32)))
  (core func $new (canon resource.new $scalars))
  (core module $r
    (import "" "new" (func $new (param i32) (result i32)))
    (func (export "ctor") (result i32) i32.const 42 call $new))
  (core instance $ri (instantiate $r (with "" (instance (export "new" (func $new))))))
  (func $add (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
  (func $add100 (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add100")))
  (func $get-a (result u32) (canon lift (core func $i "get-a")))
  (func $get-b (param "self" (borrow $scalars)) (result u32) (canon lift (core func $i "get-b")))
  (func $ctor (result (own $scalars)) (canon lift (core func $ri "ctor")))
  (component $shim
    (import "t" (type $t (sub resource)))
    (import "add" (func $add (param "a" u32) (param "b" u32) (result u32)))
    (import "ctor" (func $ctor (result (own $t))))
    (import "get-a" (func $get-a (result u32)))
    (import "get-b" (func $get-b (param "self" (borrow $t)) (result u32)))
    (export $s "scalars" (type $t))
    (export "add" (func $add))
    (export "[constructor]scalars" (func $ctor) (func (result (own $s))))
    (export "[static]scalars.get-a" (func $get-a))
    (export "[method]scalars.get-b" (func $get-b) (func (param "self" (borrow $s)) (result u32)))
  )
  (instance $iface (instantiate $shim
    (with "t" (type $scalars))
    (with "add" (func $add100))
    (with "ctor" (func $ctor))
    (with "get-a" (func $get-a))
    (with "get-b" (func $get-b))))
  (export "docs:adder/add@0.1.0" (instance $iface))
  (export "add" (func $add))
)
