(component
  (core module $m
    (func (export "run") (result i32)
      (block $caught
        (try_table (catch_all $caught)
          (return (i32.const 1))))
      i32.const 0))
  (core instance $i (instantiate $m))
  (func $run (result u32) (canon lift (core func $i "run")))
  (instance $guarded (export "run" (func $run)))
  (export "test:exceptions/guarded@1.0.0" (instance $guarded))
)
