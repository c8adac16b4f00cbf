(component
  (type $hello (func async (param "x" u32) (result u32)))
  (import "hello" (func $hello (type $hello)))
  (core func $h (canon lower (func $hello)))
  (core instance $imports (export "hello" (func $h)))
  (core module $m
    (import "" "hello" (func $h (param i32) (result i32)))
    (func (export "greet") (param i32) (result i32) local.get 0 call $h))
  (core instance $i (instantiate $m (with "" (instance $imports))))
  (func $greet (param "x" u32) (result u32) (canon lift (core func $i "greet")))
  (export "greet" (func $greet))
)
