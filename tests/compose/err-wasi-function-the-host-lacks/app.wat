(component
  (import "wasi:clocks/wall-clock@0.2.13" (instance
    (export "now-precise" (func (result u64)))
  ))
  (import "wasi:clocks/timezone@0.2.12" (instance))
  (import "wasi:cli/stdout" (instance))
)
