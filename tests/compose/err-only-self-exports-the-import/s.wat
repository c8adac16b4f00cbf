(component
  (import "test:self/s@1.0.0" (instance $s (export "f" (func))))
  (alias export $s "f" (func $f))
  (instance $o (export "f" (func $f)))
  (export "test:self/s@1.0.0" (instance $o))
)
