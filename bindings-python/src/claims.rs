//! Validated claims on their way to a Python dict, by the route that keeps
//! the interpreter lock (GIL) the shortest time.
//!
//! Python threads validating at once each hold the GIL only to make their
//! dict, and each time one wants it while another holds it, it sleeps and is
//! woken (tens of µs in a VM): the less work under the GIL, the fewer such
//! collisions. So claims are packed where they were validated (with the GIL
//! released, or on a worker thread), the map freed there, and under the GIL
//! a dict is a copy of a template of the claims' names with the values set.
//! Decides nothing: core validated the claims, this only converts them.

use std::sync::{Arc, Mutex, PoisonError};

use oatk::packed::Packed;
use oatk::Claims;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use serde_json::Value;

use crate::convert::{map_to_py, name, scalar_to_py};

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

/// Per toolkit: dict templates per set of claim names, and dicts already
/// made for the claims the verified-token cache shares.
pub struct Dicts {
    shapes: Mutex<Vec<Arc<Shape>>>,
    kept: Mutex<Vec<Option<Kept>>>,
}

/// A set of claim names (a token issuer's access tokens all have the same):
/// their `str` keys, and a dict of them with `None` values, in their order.
struct Shape {
    names: Vec<Box<str>>,
    keys: Vec<Py<PyString>>,
    template: Py<PyDict>,
}

/// Templates kept per toolkit; claims of other shapes get a dict built name
/// by name.
const MAX_SHAPES: usize = 32;

/// Claims, and a dict of them nobody else holds (copied before returning).
type Kept = (Arc<Claims>, Py<PyDict>);

/// Dicts kept: one per slot, picked by the claims' address.
const KEPT_BITS: u32 = 6;

impl Dicts {
    pub fn new() -> Dicts {
        Dicts {
            shapes: Mutex::new(Vec::new()),
            kept: Mutex::new((0..1 << KEPT_BITS).map(|_| None).collect()),
        }
    }

    /// The claims as a new dict. No lock is held while Python runs (a dict
    /// made can start the garbage collector, and a finalizer could validate).
    pub fn dict<'py>(&self, py: Python<'py>, claims: ClaimsPy) -> PyResult<Bound<'py, PyDict>> {
        match claims {
            ClaimsPy::Packed(packed) => self.packed_dict(py, &packed),
            ClaimsPy::Shared(claims) => self.shared_dict(py, &claims),
        }
    }

    /// A copy of the shape's template with the values set: no resizing, no
    /// name made or hashed (the keys are kept, their hashes with them).
    fn packed_dict<'py>(&self, py: Python<'py>, packed: &Packed) -> PyResult<Bound<'py, PyDict>> {
        let Some(shape) = self.shape(py, packed)? else {
            let dict = PyDict::new(py);
            for (key, value) in packed.iter() {
                dict.set_item(name(py, key), scalar_to_py(py, value)?)?;
            }
            return Ok(dict);
        };
        let dict = shape.template.bind(py).copy()?;
        for (key, (_, value)) in shape.keys.iter().zip(packed.iter()) {
            dict.set_item(key.bind(py), scalar_to_py(py, value)?)?;
        }
        Ok(dict)
    }

    /// The pack's shape, made when new; `None` past [`MAX_SHAPES`].
    fn shape(&self, py: Python<'_>, packed: &Packed) -> PyResult<Option<Arc<Shape>>> {
        let same = |shape: &Shape| {
            shape.names.len() == packed.len()
                && shape
                    .names
                    .iter()
                    .zip(packed.iter())
                    .all(|(a, (b, _))| **a == *b)
        };
        {
            let shapes = self.shapes.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(shape) = shapes.iter().find(|shape| same(shape)) {
                return Ok(Some(shape.clone()));
            }
            if shapes.len() >= MAX_SHAPES {
                return Ok(None);
            }
        }
        let template = PyDict::new(py);
        let mut keys = Vec::with_capacity(packed.len());
        for (key, _) in packed.iter() {
            let key = name(py, key);
            template.set_item(&key, py.None())?;
            keys.push(key.unbind());
        }
        let shape = Arc::new(Shape {
            names: packed.iter().map(|(name, _)| name.into()).collect(),
            keys,
            template: template.unbind(),
        });
        let mut shapes = self.shapes.lock().unwrap_or_else(PoisonError::into_inner);
        if shapes.len() < MAX_SHAPES && !shapes.iter().any(|shape| same(shape)) {
            shapes.push(shape.clone());
        }
        Ok(Some(shape))
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
