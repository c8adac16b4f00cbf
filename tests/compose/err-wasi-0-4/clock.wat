(component
  (import "wasi:clocks/monotonic-clock@0.4.0" (instance $clock
    (export "now" (func (result u64)))
  ))
  (alias export $clock "now" (func $now))
  (core func $now-lowered (canon lower (func $now)))
  (core module $m
    (import "clock" "now" (func $now (result i64)))
    (func (export "ticks") (result i64) call $now)
  )
  (core instance $clock-core (export "now" (func $now-lowered)))
  (core instance $i (instantiate $m (with "clock" (instance $clock-core))))
  (func (export "ticks") (result u64) (canon lift (core func $i "ticks")))
)
