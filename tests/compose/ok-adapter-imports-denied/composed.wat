(component
  (component $tool (;0;)
    (core module $wit-component:adapter:wasi_snapshot_preview1 (;0;))
    (type (;0;)
      (instance
        (type (;0;) (list string))
        (type (;1;) (func (result 0)))
        (export (;0;) "get-arguments" (func (type 1)))
      )
    )
    (import "wasi:cli/environment@0.2.12" (instance (;0;) (type 0)))
    (type (;1;)
      (instance
        (type (;0;) (result))
        (type (;1;) (func (param "status" 0)))
        (export (;0;) "exit" (func (type 1)))
      )
    )
    (import "wasi:cli/exit@0.2.12" (instance (;1;) (type 1)))
    (core module $m (;1;)
      (type (;0;) (func (param i32) (result i32)))
      (export "id" (func 0))
      (func (;0;) (type 0) (param i32) (result i32)
        local.get 0
      )
    )
    (core instance $i (;0;) (instantiate $m))
    (type (;2;) (func (param "x" u32) (result u32)))
    (alias core export $i "id" (core func (;0;)))
    (func $id (;0;) (type 2) (canon lift (core func 0)))
    (instance $tool (;2;)
      (export "id" (func $id))
    )
    (export (;3;) "test:tool/id@1.0.0" (instance $tool))
  )
  (component $tool-deny (;1;)
    (core module $main (;0;)
      (type (;0;) (func (result i32)))
      (type (;1;) (func (param i32)))
      (type (;2;) (func (param i32 i32 i32 i32) (result i32)))
      (memory (;0;) 1)
      (global (;0;) (mut i32) i32.const 24)
      (export "memory" (memory 0))
      (export "wasi:cli/environment@0.2.12#get-arguments" (func $"denied wasi:cli/environment@0.2.12#get-arguments"))
      (export "wasi:cli/exit@0.2.12#exit" (func $"denied wasi:cli/exit@0.2.12#exit"))
      (export "cabi_realloc" (func 2))
      (func $"denied wasi:cli/environment@0.2.12#get-arguments" (;0;) (type 0) (result i32)
        i32.const 24
        global.set 0
        i32.const 16
      )
      (func $"denied wasi:cli/exit@0.2.12#exit" (;1;) (type 1) (param i32)
        i32.const 24
        global.set 0
        unreachable
      )
      (func (;2;) (type 2) (param i32 i32 i32 i32) (result i32)
        (local i32 i32)
        global.get 0
        local.get 2
        i32.add
        i32.const 1
        i32.sub
        i32.const 0
        local.get 2
        i32.sub
        i32.and
        local.tee 4
        local.get 3
        i32.add
        local.tee 5
        local.get 4
        i32.lt_u
        if ;; label = @1
          unreachable
        end
        local.get 5
        memory.size
        i32.const 16
        i32.shl
        i32.gt_u
        if ;; label = @1
          local.get 5
          memory.size
          i32.const 16
          i32.shl
          i32.sub
          i32.const 65535
          i32.add
          i32.const 16
          i32.shr_u
          memory.grow
          i32.const -1
          i32.eq
          if ;; label = @2
            unreachable
          end
        end
        local.get 5
        global.set 0
        local.get 4
      )
      (data (;0;) (i32.const 0) "\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00")
      (@producers
        (processed-by "wit-component" "0.258.3")
      )
    )
    (core instance $main (;0;) (instantiate $main))
    (alias core export $main "memory" (core memory $memory (;0;)))
    (type (;0;) (list string))
    (type (;1;) (func (result 0)))
    (alias core export $main "wasi:cli/environment@0.2.12#get-arguments" (core func $wasi:cli/environment@0.2.12#get-arguments (;0;)))
    (func $get-arguments (;0;) (type 1) (canon lift (core func $wasi:cli/environment@0.2.12#get-arguments) (memory $memory) string-encoding=utf8))
    (component $wasi:cli/environment@0.2.12-shim-component (;0;)
      (type (;0;) (list string))
      (type (;1;) (func (result 0)))
      (import "import-func-get-arguments" (func (;0;) (type 1)))
      (type (;2;) (list string))
      (type (;3;) (func (result 2)))
      (export (;1;) "get-arguments" (func 0) (func (type 3)))
    )
    (instance $wasi:cli/environment@0.2.12-shim-instance (;0;) (instantiate $wasi:cli/environment@0.2.12-shim-component
        (with "import-func-get-arguments" (func $get-arguments))
      )
    )
    (export $wasi:cli/environment@0.2.12 (;1;) "wasi:cli/environment@0.2.12" (instance $wasi:cli/environment@0.2.12-shim-instance))
    (type (;2;) (result))
    (type (;3;) (func (param "status" 2)))
    (alias core export $main "wasi:cli/exit@0.2.12#exit" (core func $wasi:cli/exit@0.2.12#exit (;1;)))
    (func $exit (;1;) (type 3) (canon lift (core func $wasi:cli/exit@0.2.12#exit)))
    (component $wasi:cli/exit@0.2.12-shim-component (;1;)
      (type (;0;) (result))
      (type (;1;) (func (param "status" 0)))
      (import "import-func-exit" (func (;0;) (type 1)))
      (type (;2;) (result))
      (type (;3;) (func (param "status" 2)))
      (export (;1;) "exit" (func 0) (func (type 3)))
    )
    (instance $wasi:cli/exit@0.2.12-shim-instance (;2;) (instantiate $wasi:cli/exit@0.2.12-shim-component
        (with "import-func-exit" (func $exit))
      )
    )
    (export $wasi:cli/exit@0.2.12 (;3;) "wasi:cli/exit@0.2.12" (instance $wasi:cli/exit@0.2.12-shim-instance))
    (@producers
      (processed-by "wit-component" "0.258.3")
    )
  )
  (instance $tool-deny (;0;) (instantiate $tool-deny))
  (alias export $tool-deny "wasi:cli/environment@0.2.12" (instance $wasi:cli/environment@0.2.12 (;1;)))
  (alias export $tool-deny "wasi:cli/exit@0.2.12" (instance $wasi:cli/exit@0.2.12 (;2;)))
  (instance $tool (;3;) (instantiate $tool
      (with "wasi:cli/environment@0.2.12" (instance $wasi:cli/environment@0.2.12))
      (with "wasi:cli/exit@0.2.12" (instance $wasi:cli/exit@0.2.12))
    )
  )
  (alias export $tool "test:tool/id@1.0.0" (instance $test:tool/id@1.0.0 (;4;)))
  (export $"#instance5 test:tool/id@1.0.0" (@name "test:tool/id@1.0.0") (;5;) "test:tool/id@1.0.0" (instance $test:tool/id@1.0.0))
  (@custom "nanoproc-grants" "{\22format\22:1,\22app\22:\22app\22,\22components\22:{},\22limits\22:{\22memory\22:null,\22timeout-ms\22:null,\22tables\22:null,\22instances\22:null}}")
)
