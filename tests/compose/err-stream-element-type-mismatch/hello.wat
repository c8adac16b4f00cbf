(component
  (type $words (stream u32))
  (core module $m (func (export "hello") (param i32)))
  (core instance $i (instantiate $m))
  (func $hello (param "x" $words) (canon lift (core func $i "hello")))
  (export "hello" (func $hello))
)
