//! Model files: safetensors tensors with the topology as JSON metadata.
//!
//! (Being written: see the owning branch.)
