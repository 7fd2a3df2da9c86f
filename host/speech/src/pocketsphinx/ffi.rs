//! The only unsafe code of the PocketSphinx recognizer: a private `extern "C"` block for
//! the PocketSphinx 5prealpha / sphinxbase C API (Debian's `libpocketsphinx3`), and
//! [`Decoder`], a small owning wrapper whose methods are all safe.
//!
//! Hand-written rather than taken from the `pocketsphinx` crate, whose bindings do not
//! match the 5prealpha headers shipped by Debian.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_char, c_double, c_int, c_void};
use std::ptr::{self, NonNull};

/// Declares an opaque C type that Rust never looks inside.
macro_rules! opaque {
    ($($name:ident),*) => {$(
        #[repr(C)]
        pub(super) struct $name {
            _data: [u8; 0],
            _marker: ::std::marker::PhantomData<(*mut u8, ::std::marker::PhantomPinned)>,
        }
    )*};
}

mod raw {
    use super::{c_char, c_double, c_int, c_void};
    opaque!(PsDecoder, CmdLn, ArgT, LogMath);

    // Linked by build.rs (`pocketsphinx`, `sphinxbase`). Signatures follow
    // /usr/include/pocketsphinx/{pocketsphinx,ps_search}.h and
    // /usr/include/x86_64-linux-gnu/sphinxbase/{cmd_ln,logmath,ckd_alloc}.h;
    // `int32` is `int` there.
    unsafe extern "C" {
        pub fn err_set_logfp(stream: *mut c_void);
        pub fn err_set_logfile(path: *const c_char) -> c_int;
        pub fn ps_args() -> *const ArgT;
        pub fn cmd_ln_parse_r(
            inout: *mut CmdLn,
            defn: *const ArgT,
            argc: c_int,
            argv: *mut *mut c_char,
            strict: c_int,
        ) -> *mut CmdLn;
        pub fn cmd_ln_free_r(cmdln: *mut CmdLn) -> c_int;
        pub fn ps_init(config: *mut CmdLn) -> *mut PsDecoder;
        pub fn ps_free(ps: *mut PsDecoder) -> c_int;
        pub fn ps_get_logmath(ps: *mut PsDecoder) -> *mut LogMath;
        pub fn logmath_exp(lmath: *mut LogMath, logb_p: c_int) -> c_double;
        pub fn ps_lookup_word(ps: *mut PsDecoder, word: *const c_char) -> *mut c_char;
        pub fn ckd_free(ptr: *mut c_void);
        pub fn ps_set_jsgf_string(
            ps: *mut PsDecoder,
            name: *const c_char,
            jsgf: *const c_char,
        ) -> c_int;
        pub fn ps_set_kws(ps: *mut PsDecoder, name: *const c_char, keyfile: *const c_char)
        -> c_int;
        pub fn ps_set_lm_file(
            ps: *mut PsDecoder,
            name: *const c_char,
            path: *const c_char,
        ) -> c_int;
        pub fn ps_set_search(ps: *mut PsDecoder, name: *const c_char) -> c_int;
        pub fn ps_unset_search(ps: *mut PsDecoder, name: *const c_char) -> c_int;
        pub fn ps_start_utt(ps: *mut PsDecoder) -> c_int;
        pub fn ps_process_raw(
            ps: *mut PsDecoder,
            data: *const i16,
            n_samples: usize,
            no_search: c_int,
            full_utt: c_int,
        ) -> c_int;
        pub fn ps_end_utt(ps: *mut PsDecoder) -> c_int;
        pub fn ps_get_hyp(ps: *mut PsDecoder, out_best_score: *mut c_int) -> *const c_char;
        pub fn ps_get_prob(ps: *mut PsDecoder) -> c_int;
    }
}

fn cstring(what: &str, s: &str) -> Result<CString, String> {
    CString::new(s).map_err(|_| format!("{what} contains a NUL byte"))
}

/// Sets sphinxbase's process-wide log destination, once, before the first decoder:
/// `None` disables logging. Later calls do nothing.
///
/// Not done per decoder with `-logfn`: `ps_init` would then call `err_set_logfile`,
/// which closes the previous log `FILE*` while another thread's decoder may be writing
/// to it.
pub(super) fn init_logging(path: Option<&str>) -> Result<(), String> {
    static ONCE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| match path {
        None => {
            // SAFETY: a null stream is documented to disable logging; this runs once,
            // before any decoder exists (decoders are created after `init_logging`
            // returns, and `OnceLock` blocks concurrent callers until it has).
            unsafe { raw::err_set_logfp(ptr::null_mut()) };
            Ok(())
        }
        Some(p) => {
            let c = cstring("log path", p)?;
            // SAFETY: NUL-terminated path; runs once before any decoder exists (above).
            let rv = unsafe { raw::err_set_logfile(c.as_ptr()) };
            if rv < 0 {
                Err(format!("cannot open log file {p}"))
            } else {
                Ok(())
            }
        }
    })
    .clone()
}

/// An owned PocketSphinx decoder (`ps_decoder_t`).
///
/// Not `Sync`: every method that touches the decoder takes `&mut self`, and the C
/// decoder keeps per-utterance state without locking.
pub(super) struct Decoder {
    ps: NonNull<raw::PsDecoder>,
    /// `cmd_ln_parse_r` documents that it may keep pointers into `argv`, and the decoder
    /// retains the parsed config, so the strings live as long as the decoder.
    _argv: Vec<CString>,
}

// SAFETY: a `ps_decoder_t` owns all of its state (config, models, searches, log math;
// nothing thread-local) and PocketSphinx has no thread affinity, so it may be moved to,
// used from and freed on another thread. The only global state it touches is the
// sphinxbase log destination, which is set once before the first decoder
// ([`init_logging`]; no `-logfn`) and only read afterwards. Concurrent use from two threads
// is impossible because `Decoder` is not `Sync` and all decoder calls take `&mut self`.
unsafe impl Send for Decoder {}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder").field("ps", &self.ps).finish()
    }
}

impl Decoder {
    /// Creates a decoder from command-line style `(-name, value)` pairs.
    pub(super) fn new(args: &[(&str, String)]) -> Result<Decoder, String> {
        let mut argv = Vec::with_capacity(args.len() * 2);
        for (name, value) in args {
            argv.push(cstring("argument name", name)?);
            argv.push(cstring("argument value", value)?);
        }
        let mut ptrs: Vec<*mut c_char> = argv.iter().map(|s| s.as_ptr().cast_mut()).collect();
        let argc = c_int::try_from(ptrs.len()).map_err(|_| "too many arguments".to_string())?;
        // SAFETY: `ps_args()` returns a pointer to a static argument table. `ptrs` holds
        // `argc` pointers to NUL-terminated strings owned by `argv`, which outlives the
        // returned config (it moves into the `Decoder` below, or is dropped after the
        // config is freed on failure); sphinxbase never writes through `argv`.
        let config = unsafe {
            raw::cmd_ln_parse_r(ptr::null_mut(), raw::ps_args(), argc, ptrs.as_mut_ptr(), 1)
        };
        if config.is_null() {
            return Err("invalid decoder arguments".into());
        }
        // SAFETY: `config` is a valid config we own; `ps_init` takes its own reference.
        let ps = unsafe { raw::ps_init(config) };
        // SAFETY: we release our reference to `config` exactly once; the decoder (if
        // any) still holds its own.
        unsafe { raw::cmd_ln_free_r(config) };
        let ps = NonNull::new(ps)
            .ok_or_else(|| "ps_init failed (model files missing or unreadable?)".to_string())?;
        Ok(Decoder { ps, _argv: argv })
    }

    /// Whether `word` is in the loaded pronunciation dictionary.
    pub(super) fn has_word(&mut self, word: &str) -> bool {
        let Ok(w) = CString::new(word) else {
            return false;
        };
        // SAFETY: `self.ps` is a live decoder and `w` a NUL-terminated string.
        let phones = unsafe { raw::ps_lookup_word(self.ps.as_ptr(), w.as_ptr()) };
        if phones.is_null() {
            return false;
        }
        // SAFETY: the header says the returned string is allocated for the caller; it
        // comes from sphinxbase's ckd allocator, so `ckd_free` releases it, once.
        unsafe { raw::ckd_free(phones.cast::<c_void>()) };
        true
    }

    fn check(what: &str, rv: c_int) -> Result<(), String> {
        if rv < 0 {
            Err(format!("{what} failed"))
        } else {
            Ok(())
        }
    }

    /// Adds (or replaces) the JSGF search `name`.
    pub(super) fn set_jsgf_string(&mut self, name: &str, jsgf: &str) -> Result<(), String> {
        let (n, j) = (cstring("search name", name)?, cstring("grammar", jsgf)?);
        // SAFETY: live decoder and two NUL-terminated strings that PocketSphinx copies
        // or parses before returning.
        Self::check("ps_set_jsgf_string", unsafe {
            raw::ps_set_jsgf_string(self.ps.as_ptr(), n.as_ptr(), j.as_ptr())
        })
    }

    /// Adds (or replaces) the keyword-spotting search `name` from a keyphrase file.
    pub(super) fn set_kws(&mut self, name: &str, keyfile: &str) -> Result<(), String> {
        let (n, k) = (
            cstring("search name", name)?,
            cstring("keyphrase file", keyfile)?,
        );
        // SAFETY: live decoder and two NUL-terminated strings; the file is read before
        // the call returns.
        Self::check("ps_set_kws", unsafe {
            raw::ps_set_kws(self.ps.as_ptr(), n.as_ptr(), k.as_ptr())
        })
    }

    /// Adds (or replaces) the language-model search `name` from an LM file.
    pub(super) fn set_lm_file(&mut self, name: &str, path: &str) -> Result<(), String> {
        let (n, p) = (cstring("search name", name)?, cstring("LM path", path)?);
        // SAFETY: live decoder and two NUL-terminated strings; the file is read before
        // the call returns.
        Self::check("ps_set_lm_file", unsafe {
            raw::ps_set_lm_file(self.ps.as_ptr(), n.as_ptr(), p.as_ptr())
        })
    }

    /// Makes search `name` the active one (never call inside an utterance).
    pub(super) fn set_search(&mut self, name: &str) -> Result<(), String> {
        let n = cstring("search name", name)?;
        // SAFETY: live decoder and a NUL-terminated string.
        Self::check("ps_set_search", unsafe {
            raw::ps_set_search(self.ps.as_ptr(), n.as_ptr())
        })
    }

    /// Removes search `name` (never the active one).
    pub(super) fn unset_search(&mut self, name: &str) -> Result<(), String> {
        let n = cstring("search name", name)?;
        // SAFETY: live decoder and a NUL-terminated string.
        Self::check("ps_unset_search", unsafe {
            raw::ps_unset_search(self.ps.as_ptr(), n.as_ptr())
        })
    }

    pub(super) fn start_utt(&mut self) -> Result<(), String> {
        // SAFETY: live decoder.
        Self::check("ps_start_utt", unsafe {
            raw::ps_start_utt(self.ps.as_ptr())
        })
    }

    /// Decodes a block of 16-bit PCM at the configured rate (never full-utterance mode).
    /// `whole`: `pcm` is the entire utterance (PocketSphinx then normalises it by its
    /// own cepstral mean).
    pub(super) fn process_raw(&mut self, pcm: &[i16], whole: bool) -> Result<(), String> {
        // SAFETY: live decoder; `pcm` is valid for `pcm.len()` samples, read only.
        Self::check("ps_process_raw", unsafe {
            raw::ps_process_raw(
                self.ps.as_ptr(),
                pcm.as_ptr(),
                pcm.len(),
                0,
                c_int::from(whole),
            )
        })
    }

    pub(super) fn end_utt(&mut self) -> Result<(), String> {
        // SAFETY: live decoder.
        Self::check("ps_end_utt", unsafe { raw::ps_end_utt(self.ps.as_ptr()) })
    }

    /// The current best hypothesis and its path score, `None` if there is none.
    pub(super) fn hyp(&mut self) -> Option<(String, i32)> {
        let mut score: c_int = 0;
        // SAFETY: live decoder; `score` is a valid out pointer.
        let h = unsafe { raw::ps_get_hyp(self.ps.as_ptr(), &mut score) };
        if h.is_null() {
            return None;
        }
        // SAFETY: non-null, NUL-terminated and owned by the decoder until its next call;
        // we copy it out immediately.
        let text = unsafe { CStr::from_ptr(h) }.to_string_lossy().into_owned();
        Some((text, score))
    }

    /// Posterior probability of the current hypothesis (`ps_get_prob`, a log value in
    /// the decoder's log base) converted to linear 0..1.
    pub(super) fn posterior(&mut self) -> f64 {
        // SAFETY: live decoder.
        let logp = unsafe { raw::ps_get_prob(self.ps.as_ptr()) };
        // SAFETY: the decoder owns its logmath object for its whole life.
        let lmath = unsafe { raw::ps_get_logmath(self.ps.as_ptr()) };
        if lmath.is_null() {
            return 0.0;
        }
        // SAFETY: `lmath` is the decoder's live logmath object.
        unsafe { raw::logmath_exp(lmath, logp) }
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: we own the only reference we took; it is released exactly once.
        unsafe { raw::ps_free(self.ps.as_ptr()) };
    }
}
