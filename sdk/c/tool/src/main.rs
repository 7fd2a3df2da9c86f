//! The two steps of the C kit that need the component-model libraries, in one small
//! binary so the kit does not depend on the much larger `wit-bindgen` and `wasm-tools`
//! command-line tools:
//!
//!   voxgate-c-tool bindgen WIT_DIR WORLD OUT_DIR
//!       C bindings for a world, always named `plugin` (`plugin.h`, `plugin.c`,
//!       `plugin_component_type.o`)
//!   voxgate-c-tool component CORE.wasm OUT.wasm
//!       a wasm32-wasi reactor module (with the component type linked in) turned into a
//!       component, its WASI preview1 imports served by the preview1 reactor adapter

use std::path::Path;
use std::{env, fs, process};

use anyhow::{Context, Result, bail};
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wit_bindgen_core::Files;
use wit_component::ComponentEncoder;
use wit_parser::Resolve;

const USAGE: &str = "usage:
  voxgate-c-tool bindgen WIT_DIR WORLD OUT_DIR
  voxgate-c-tool component CORE.wasm OUT.wasm";

fn main() {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["bindgen", wit, world, out] => bindgen(Path::new(wit), world, Path::new(out)),
        ["component", core, out] => component(Path::new(core), Path::new(out)),
        _ => {
            eprintln!("{USAGE}");
            process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("voxgate-c-tool: {e:#}");
        process::exit(1);
    }
}

fn bindgen(wit: &Path, world: &str, out: &Path) -> Result<()> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_path(wit)
        .with_context(|| format!("reading WIT from {}", wit.display()))?;
    let world = resolve.select_world(&[package], Some(world))?;
    let mut files = Files::default();
    // Every world is generated under one name, so the kit's helpers (which use the
    // world's string type) compile against whatever world a plugin picks.
    wit_bindgen_c::Opts {
        rename_world: Some("plugin".to_string()),
        ..Default::default()
    }
    .build()
    .generate(&mut resolve, world, &mut files)?;
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for (name, bytes) in files.iter() {
        let path = out.join(name);
        // Rewriting identical files would make every build recompile the bindings.
        if fs::read(&path).is_ok_and(|old| old == bytes) {
            continue;
        }
        fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn component(core: &Path, out: &Path) -> Result<()> {
    let module = fs::read(core).with_context(|| format!("reading {}", core.display()))?;
    if !module.starts_with(b"\0asm\x01\0\0\0") {
        bail!("{} is not a core wasm module", core.display());
    }
    let bytes = ComponentEncoder::default()
        .module(&module)
        .context(
            "the module carries no component type: link the *_component_type.o of the bindings",
        )?
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )?
        .validate(true)
        .encode()?;
    fs::write(out, bytes).with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}
