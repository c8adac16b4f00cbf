(component
  (import "test:cycle/c@1.0.0" (instance $c (export "f" (func))))
  (alias export $c "f" (func $f))
  (instance $b (export "f" (func $f)))
  (export "test:cycle/b@1.0.0" (instance $b))
)
