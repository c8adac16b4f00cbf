(component
  (import "test:dep/test@0.1.0" (instance
    (export "answer" (func (result u32)))
  ))
  (import "test:dep/test@0.2.0" (instance
    (export "answer" (func (result u32)))
  ))
  (import "test:other/thing" (instance))
)
