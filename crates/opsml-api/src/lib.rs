//! What the opsml client and server say to each other: the request and response bodies of
//! the `/api/v1` routes ([`wire`]) and metric points as an Arrow IPC stream. Both sides
//! link this crate; neither links the other.

mod metrics_ipc;
pub mod wire;

pub use metrics_ipc::{
    decode_ipc, encode_ipc, metric_batch, metric_schema, ARROW_STREAM_MEDIA_TYPE,
};
