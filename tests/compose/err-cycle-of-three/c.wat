(component
  (import "test:cycle/a@1.0.0" (instance $a (export "f" (func))))
  (alias export $a "f" (func $f))
  (instance $c (export "f" (func $f)))
  (export "test:cycle/c@1.0.0" (instance $c))
)
