//! Token arguments read from JavaScript without napi-rs's extra copy.

use std::cell::RefCell;

use napi::bindgen_prelude::{FromNapiValue, Result, TypeName, ValueType};
use napi::{check_status, sys};

/// A token (or `Authorization` header) argument: `string | undefined | null`.
/// Read with one N-API call into a buffer this thread keeps, where napi-rs's
/// `Option<String>` measures the string, allocates a zeroed buffer and copies
/// (two calls). Anything but a string or nothing is converted by napi-rs, so
/// the error for a wrong type is its own.
pub struct TokenArg(Option<Text>);

enum Text {
    /// The thread's buffer, handed back when the argument is dropped.
    Pooled(String),
    Owned(String),
}

/// Longer text takes napi-rs's path (a token is refused past 64 KiB anyway).
const TOKEN_BUFFER: usize = 16 * 1024;

thread_local! {
    static TOKEN_TEXT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl TokenArg {
    pub fn as_deref(&self) -> Option<&str> {
        match &self.0 {
            None => None,
            Some(Text::Pooled(text) | Text::Owned(text)) => Some(text),
        }
    }

    /// The text, owned (for a worker thread).
    pub fn into_string(mut self) -> Option<String> {
        match self.0.take()? {
            Text::Owned(text) => Some(text),
            Text::Pooled(text) => {
                let owned = text.clone();
                give_back(text.into_bytes());
                Some(owned)
            }
        }
    }
}

fn give_back(mut bytes: Vec<u8>) {
    bytes.clear();
    TOKEN_TEXT.with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            if slot.capacity() < bytes.capacity() {
                *slot = bytes;
            }
        }
    });
}

impl Drop for TokenArg {
    fn drop(&mut self) {
        if let Some(Text::Pooled(text)) = self.0.take() {
            give_back(text.into_bytes());
        }
    }
}

impl FromNapiValue for TokenArg {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        let mut kind = 0;
        check_status!(
            unsafe { sys::napi_typeof(env, value, &mut kind) },
            "Failed to convert napi value into rust type `Option<T>`"
        )?;
        match kind {
            sys::ValueType::napi_undefined | sys::ValueType::napi_null => {
                return Ok(TokenArg(None))
            }
            sys::ValueType::napi_string => {}
            _ => {
                return Ok(TokenArg(Some(Text::Owned(unsafe {
                    String::from_napi_value(env, value)?
                }))))
            }
        }
        let mut buffer = TOKEN_TEXT
            .with(|slot| slot.try_borrow_mut().map(|mut s| std::mem::take(&mut *s)))
            .unwrap_or_default();
        buffer.clear();
        buffer.reserve(TOKEN_BUFFER);
        let mut written = 0;
        let status = unsafe {
            sys::napi_get_value_string_utf8(
                env,
                value,
                buffer.as_mut_ptr().cast(),
                buffer.capacity(),
                &mut written,
            )
        };
        // Filled up to the last 4 bytes: maybe cut short (whole characters only).
        if status != sys::Status::napi_ok || written + 4 >= buffer.capacity() {
            give_back(buffer);
            return Ok(TokenArg(Some(Text::Owned(unsafe {
                String::from_napi_value(env, value)?
            }))));
        }
        // SAFETY: napi wrote `written` bytes (and a NUL after them).
        unsafe { buffer.set_len(written) };
        match String::from_utf8(buffer) {
            Ok(text) => Ok(TokenArg(Some(Text::Pooled(text)))),
            Err(e) => {
                give_back(e.into_bytes());
                let text = unsafe { String::from_napi_value(env, value)? };
                Ok(TokenArg(Some(Text::Owned(text))))
            }
        }
    }
}

impl TypeName for TokenArg {
    fn type_name() -> &'static str {
        "string | undefined | null"
    }
    fn value_type() -> ValueType {
        ValueType::String
    }
}
