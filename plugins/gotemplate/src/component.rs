//! Component glue: the `renderer` world's exports (wasm32 only).

wit_bindgen::generate!({
    world: "renderer",
    path: "../../wit",
});

/// Each call runs in a fresh instance: see `versus_plugin_arena`.
#[global_allocator]
static ALLOC: versus_plugin_arena::Arena = versus_plugin_arena::Arena::new();

struct Renderer;

impl Guest for Renderer {
    fn render(template: String, data_json: String) -> Result<String, PluginError> {
        // Every failure is about this template or this data: retrying the
        // same input cannot help.
        let prepared = crate::Prepared::parse(&template).map_err(invalid)?;
        let text = prepared.render_json(&data_json).map_err(invalid);
        // The host discards this instance when the call returns: walking the
        // parsed template to free it would be wasted work.
        std::mem::forget(prepared);
        text
    }

    fn validate(template: String) -> Result<(), PluginError> {
        crate::check(&template).map_err(invalid)
    }
}

fn invalid(e: crate::RenderError) -> PluginError {
    PluginError::InvalidInput(e.to_string())
}

export!(Renderer);
