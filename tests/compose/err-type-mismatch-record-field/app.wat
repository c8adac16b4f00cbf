(component
  (import "nanoproc:json/document@0.1.0" (instance
    (type $e (record (field "message" string) (field "line" u64) (field "column" u32)))
    (export "syntax-error" (type $se (eq $e)))
    (type $r (result (error $se)))
    (export "validate" (func (param "text" string) (result $r)))
  ))
)
