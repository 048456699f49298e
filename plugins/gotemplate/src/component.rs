//! Component glue: the `renderer` world's exports (wasm32 only).

wit_bindgen::generate!({
    world: "renderer",
    path: "../../wit",
});

struct Renderer;

impl Guest for Renderer {
    fn render(template: String, data_json: String) -> Result<String, PluginError> {
        // Every failure is about this template or this data: retrying the
        // same input cannot help.
        crate::render(&template, &data_json).map_err(|e| PluginError::InvalidInput(e.to_string()))
    }

    fn validate(template: String) -> Result<(), PluginError> {
        crate::check(&template).map_err(|e| PluginError::InvalidInput(e.to_string()))
    }
}

export!(Renderer);
