(component
  (core module $m
    (func (export "hello") (param i64) (result i32) local.get 0 i32.wrap_i64))
  (core instance $i (instantiate $m))
  (func $hello (param "x" u64) (result u32) (canon lift (core func $i "hello")))
  (export "hello" (func $hello))
)
