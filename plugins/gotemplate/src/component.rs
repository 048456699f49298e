//! Component glue: the `renderer` world's exports (wasm32 only), with the
//! SDK's bindings and allocator.

use std::cell::RefCell;

use versus_plugin_sdk::PluginError;

thread_local! {
    /// Templates parsed by earlier calls of this instance.
    static PARSED: RefCell<crate::Parsed> = RefCell::default();
}

struct Renderer;

impl versus_plugin_sdk::renderer::Guest for Renderer {
    fn render(template: String, data_json: String) -> Result<String, PluginError> {
        // Every failure is about this template or this data: retrying the
        // same input cannot help.
        PARSED.with_borrow_mut(|parsed| {
            let prepared = parsed.get(&template).map_err(invalid)?;
            prepared.render_json(&data_json).map_err(invalid)
        })
    }

    fn validate(template: String) -> Result<(), PluginError> {
        crate::check(&template).map_err(invalid)
    }
}

fn invalid(e: crate::RenderError) -> PluginError {
    PluginError::InvalidInput(e.to_string())
}

versus_plugin_sdk::export_renderer!(Renderer);
