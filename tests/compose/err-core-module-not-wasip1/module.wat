;; A core module that imports from the module `env`: neither WASI preview1
;; nor a WIT world, so nothing can provide it.
(module
  (import "env" "host_thing" (func))
  (func (export "_start") call 0))
