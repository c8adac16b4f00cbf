(component
  (type $bytes (stream u8))
  (import "hello" (func $hello (param "x" $bytes)))
  (core func $h (canon lower (func $hello)))
  (core instance $imports (export "hello" (func $h)))
  (core module $m
    (import "" "hello" (func $h (param i32)))
    (func (export "greet") (param i32) local.get 0 call $h))
  (core instance $i (instantiate $m (with "" (instance $imports))))
  (func $greet (param "x" $bytes) (canon lift (core func $i "greet")))
  (export "greet" (func $greet))
)
