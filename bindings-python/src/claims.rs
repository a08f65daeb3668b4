//! Validated claims on their way to a Python dict, by the route that keeps
//! the interpreter lock (GIL) the shortest time.
//!
//! Python threads validating at once each hold the GIL only to make their
//! dict, and each time one wants it while another holds it, it sleeps and is
//! woken (tens of µs in a VM): the less work under the GIL, the fewer such
//! collisions. So claims are packed where they were validated (with the GIL
//! released, or on a worker thread), the map freed there, and under the GIL
//! a dict is a copy of this thread's template for the claims' names, with
//! the values that changed since its last dict set.
//! Decides nothing: core validated the claims, this only converts them.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, PoisonError};

use oatk::packed::{Packed, Scalar};
use oatk::Claims;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use serde_json::Value;

use crate::convert::{map_to_py, scalar_to_py};

/// Claims, as they leave the thread that validated them.
pub enum ClaimsPy {
    /// Scalar values only, held by nobody else: packed, the map freed.
    Packed(Packed),
    /// Shared with the verified-token cache, or with arrays or objects in them.
    Shared(Arc<Claims>),
}

impl ClaimsPy {
    /// Where the claims were validated, before taking the GIL.
    pub fn new(claims: Arc<Claims>) -> ClaimsPy {
        match Arc::try_unwrap(claims) {
            Ok(claims) => ClaimsPy::owned(claims),
            Err(shared) => ClaimsPy::Shared(shared),
        }
    }

    pub fn owned(claims: Claims) -> ClaimsPy {
        match Packed::new(&claims) {
            Some(packed) => ClaimsPy::Packed(packed),
            None => ClaimsPy::Shared(Arc::new(claims)),
        }
    }
}

/// Per toolkit: dicts already made for the claims the verified-token cache
/// shares. (Templates for packed claims are per thread: [`Templates`].)
pub struct Dicts {
    kept: Mutex<Vec<Option<Kept>>>,
}

/// Claims, and a dict of them nobody else holds (copied before returning).
type Kept = (Arc<Claims>, Py<PyDict>);

/// Dicts kept: one per slot, picked by the claims' address.
const KEPT_BITS: u32 = 6;

impl Dicts {
    pub fn new() -> Dicts {
        Dicts {
            kept: Mutex::new((0..1 << KEPT_BITS).map(|_| None).collect()),
        }
    }

    /// The claims as a new dict. No lock is held while Python runs (a dict
    /// made can start the garbage collector, and a finalizer could validate).
    pub fn dict<'py>(&self, py: Python<'py>, claims: ClaimsPy) -> PyResult<Bound<'py, PyDict>> {
        match claims {
            ClaimsPy::Packed(packed) => Templates::dict(py, &packed),
            ClaimsPy::Shared(claims) => self.shared_dict(py, &claims),
        }
    }

    /// A hit of the verified-token cache returning the very same claims (the
    /// same `Arc`) gets a copy of the dict made the first time (5x faster
    /// than one built name by name). Only claims whose values are all
    /// immutable (str, int, float, bool, None) are kept, so a shallow copy is
    /// as independent as a new dict: what a caller does to one dict never
    /// shows in another.
    fn shared_dict<'py>(
        &self,
        py: Python<'py>,
        claims: &Arc<Claims>,
    ) -> PyResult<Bound<'py, PyDict>> {
        // Claims nobody else holds are converted once and never seen again.
        if Arc::strong_count(claims) == 1 {
            return map_to_py(py, claims);
        }
        // Claims live as long as a slot holds them, so an address is never reused meanwhile.
        let address = Arc::as_ptr(claims) as usize as u64;
        let slot = (address.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - KEPT_BITS)) as usize;
        let hit = {
            let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
            match &kept[slot] {
                Some((claims_kept, dict)) if Arc::ptr_eq(claims_kept, claims) => {
                    Some(dict.clone_ref(py))
                }
                _ => None,
            }
        };
        if let Some(dict) = hit {
            return dict.bind(py).copy();
        }
        let dict = map_to_py(py, claims)?;
        if claims
            .values()
            .all(|v| !matches!(v, Value::Array(_) | Value::Object(_)))
        {
            let kept = Some((claims.clone(), dict.copy()?.unbind()));
            let old = std::mem::replace(
                &mut self.kept.lock().unwrap_or_else(PoisonError::into_inner)[slot],
                kept,
            );
            drop(old); // freed outside the lock
        }
        Ok(dict)
    }
}

impl Default for Dicts {
    fn default() -> Dicts {
        Dicts::new()
    }
}

/// Per thread, a dict template per set of claim names (a token issuer's
/// access tokens all have the same), holding the values of the last dict
/// made from it. A dict is a copy of the template (no resizing, no name made
/// or hashed), with only the values that differ from the last ones made and
/// set: the `iss`, `aud` and `scope` of one issuer's tokens, or every value
/// of a token presented again, are shared, as Python's immutable values can
/// be. Per thread, because two threads sharing an object both write its
/// reference count: the cache line moves between their cores on every
/// dict (measured: threads validating at once then spent more time making
/// dicts than one thread alone).
struct Templates;

/// A set of claim names, this thread's keys for them, and a dict of them
/// with the last values set, those values as they were packed.
struct Template {
    names: Vec<Box<str>>,
    keys: Vec<Py<PyString>>,
    last: Vec<Scalar<String>>,
    dict: Py<PyDict>,
}

/// Templates kept per thread; past that, a new shape takes the place of
/// the one made longest ago.
const MAX_TEMPLATES: usize = 32;

/// This thread's templates, and the slot a new shape takes next when full.
#[derive(Default)]
struct Slots {
    templates: Vec<Option<Template>>,
    next: usize,
}

thread_local! {
    /// A template is taken out while Python runs with it (a finalizer that
    /// validates on this thread finds its slot empty) and put back after.
    static SLOTS: RefCell<Slots> = RefCell::default();
}

impl Templates {
    fn dict<'py>(py: Python<'py>, packed: &Packed) -> PyResult<Bound<'py, PyDict>> {
        match Templates::take(packed) {
            Some((slot, mut template)) => {
                let dict = template.fill(py, packed);
                Templates::put_back(Some(slot), template);
                dict
            }
            None => {
                let (template, dict) = Template::new(py, packed)?;
                Templates::put_back(None, template);
                Ok(dict)
            }
        }
    }

    /// This thread's template of the pack's names, out of its slot.
    fn take(packed: &Packed) -> Option<(usize, Template)> {
        SLOTS
            .try_with(|slots| {
                let mut slots = slots.borrow_mut();
                let slot = slots
                    .templates
                    .iter()
                    .position(|t| t.as_ref().is_some_and(|t| t.fits(packed)))?;
                Some((slot, slots.templates[slot].take()?))
            })
            .ok()
            .flatten()
    }

    /// Back into its slot, or a new one into the next. What is dropped (the
    /// template replaced, or this one if its slot was filled meanwhile) is
    /// dropped after the borrow ends.
    fn put_back(slot: Option<usize>, template: Template) {
        let spare = SLOTS.try_with(|slots| {
            let mut slots = slots.borrow_mut();
            match slot {
                Some(slot) if slots.templates[slot].is_none() => {
                    slots.templates[slot] = Some(template);
                    None
                }
                // Another template is out of its slot: this is a call
                // within one (a finalizer's), whose template is not kept,
                // lest it push out the one in use or hold its shape twice.
                Some(_) => Some(template),
                None if slots.templates.iter().any(Option::is_none) => Some(template),
                None if slots.templates.len() < MAX_TEMPLATES => {
                    slots.templates.push(Some(template));
                    None
                }
                None => {
                    let next = slots.next;
                    slots.next = (next + 1) % MAX_TEMPLATES;
                    slots.templates[next].replace(template)
                }
            }
        });
        drop(spare);
    }
}

impl Template {
    /// A template of the pack's names and values, and a copy of it.
    fn new<'py>(py: Python<'py>, packed: &Packed) -> PyResult<(Template, Bound<'py, PyDict>)> {
        let dict = PyDict::new(py);
        let mut keys = Vec::with_capacity(packed.len());
        for (name, value) in packed.iter() {
            // Not `convert::name`'s interned strs: those are every thread's.
            let key = PyString::new(py, name);
            dict.set_item(&key, scalar_to_py(py, value)?)?;
            keys.push(key.unbind());
        }
        let copy = dict.copy()?;
        let template = Template {
            names: packed.iter().map(|(name, _)| name.into()).collect(),
            keys,
            last: packed
                .iter()
                .map(|(_, value)| value.map_str(str::to_owned))
                .collect(),
            dict: dict.unbind(),
        };
        Ok((template, copy))
    }

    fn fits(&self, packed: &Packed) -> bool {
        self.names.len() == packed.len()
            && self
                .names
                .iter()
                .zip(packed.iter())
                .all(|(a, (b, _))| **a == *b)
    }

    /// A copy of the template with the pack's values; a value that differs
    /// from the last one becomes the template's too.
    fn fill<'py>(&mut self, py: Python<'py>, packed: &Packed) -> PyResult<Bound<'py, PyDict>> {
        let template = self.dict.bind(py);
        let dict = template.copy()?;
        for ((key, last), (_, value)) in self.keys.iter().zip(&mut self.last).zip(packed.iter()) {
            if same(last, value) {
                continue;
            }
            let value_py = scalar_to_py(py, value)?;
            dict.set_item(key.bind(py), &value_py)?;
            template.set_item(key.bind(py), &value_py)?;
            match (last, value) {
                (Scalar::Str(kept), Scalar::Str(text)) => {
                    kept.clear();
                    kept.push_str(text);
                }
                (last, value) => *last = value.map_str(str::to_owned),
            }
        }
        Ok(dict)
    }
}

/// The same Python value: floats by their bits, so `-0.0` is not `0.0`.
fn same(last: &Scalar<String>, value: Scalar<&str>) -> bool {
    match (last, value) {
        (Scalar::Null, Scalar::Null) => true,
        (Scalar::Bool(a), Scalar::Bool(b)) => *a == b,
        (Scalar::Int(a), Scalar::Int(b)) => *a == b,
        (Scalar::Float(a), Scalar::Float(b)) => a.to_bits() == b.to_bits(),
        (Scalar::Str(a), Scalar::Str(b)) => a == b,
        _ => false,
    }
}
