pub mod boomstream_fake;
pub mod log_capture;
pub mod streamboxy_fake;
