"""groundsight's compact VLM and the vlm perceiver for any transformers image-text-to-text model."""
