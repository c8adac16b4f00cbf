(component
  (import "test:chain/base@1.0.0" (instance $base
    (export "id" (func (param "x" u32) (result u32)))
  ))
  (alias export $base "id" (func $id))
  (instance $mid (export "id" (func $id)))
  (export "test:chain/middle@1.0.0" (instance $mid))
)
