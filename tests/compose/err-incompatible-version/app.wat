(component
  (import "nanoproc:markdown/render@0.2.0" (instance
    (export "to-html" (func (param "markdown" string) (result string)))
  ))
)
