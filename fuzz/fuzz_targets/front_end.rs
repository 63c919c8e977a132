#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| deal_fuzz::front_end(data));
