(component
  (import "nanoproc:markdown/render@0.1.0" (instance
    (export "to-pdf" (func (param "markdown" string) (result (list u8))))
  ))
)
