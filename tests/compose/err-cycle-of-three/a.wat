(component
  (import "test:cycle/b@1.0.0" (instance $b (export "f" (func))))
  (alias export $b "f" (func $f))
  (instance $a (export "f" (func $f)))
  (export "test:cycle/a@1.0.0" (instance $a))
)
