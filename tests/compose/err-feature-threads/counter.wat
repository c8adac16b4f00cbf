(component
  (core module $m
    (memory 1 1 shared)
    (func (export "next") (result i32)
      i32.const 0
      i32.const 1
      i32.atomic.rmw.add))
  (core instance $i (instantiate $m))
  (func $next (result u32) (canon lift (core func $i "next")))
  (instance $counter (export "next" (func $next)))
  (export "test:threads/counter@1.0.0" (instance $counter))
)
