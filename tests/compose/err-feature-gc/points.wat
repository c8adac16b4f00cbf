(component
  (core module $m
    (type $point (struct (field i32) (field i32)))
    (func (export "origin") (result i32)
      (struct.get $point 0 (struct.new $point (i32.const 0) (i32.const 0)))))
  (core instance $i (instantiate $m))
  (func $origin (result s32) (canon lift (core func $i "origin")))
  (instance $points (export "origin" (func $origin)))
  (export "test:gc/points@1.0.0" (instance $points))
)
