//! Work that JavaScript awaits, run on the libuv thread pool inside the
//! panic boundary: the promise resolves to the result or rejects with an
//! `OatkError`.

use napi::bindgen_prelude::{
    AsyncTask, Env, ObjectRef, Result, This, ToNapiValue, TypeName, ValueType,
};
use napi::{sys, Task};
use oatk::Claims;

use crate::errors::{boundary, js_error, Outcome};

type Job<T> = Box<dyn FnOnce() -> Outcome<T> + Send>;

fn compute<T>(job: &mut Option<Job<T>>) -> Result<Outcome<T>> {
    let job = job
        .take()
        .ok_or_else(|| napi::Error::from_reason("oatk: a task ran twice"))?;
    Ok(boundary(job))
}

/// A promise of `T`, computed by `job` off the JavaScript thread.
pub struct Work<T> {
    job: Option<Job<T>>,
}

impl<T: ToNapiValue + TypeName + Send + 'static> Work<T> {
    pub fn spawn(job: impl FnOnce() -> Outcome<T> + Send + 'static) -> AsyncTask<Work<T>> {
        AsyncTask::new(Work {
            job: Some(Box::new(job)),
        })
    }
}

impl<T: ToNapiValue + TypeName + Send + 'static> Task for Work<T> {
    type Output = Outcome<T>;
    type JsValue = T;

    fn compute(&mut self) -> Result<Self::Output> {
        compute(&mut self.job)
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<T> {
        output.map_err(|failure| js_error(&env, failure))
    }
}

/// A promise of the object the method was called on (`await
/// toolkit.usingProvider(url)` is the toolkit), once `job` has changed it.
pub struct Chain {
    job: Option<Job<()>>,
    this: Option<ObjectRef<false>>,
}

impl Chain {
    pub fn spawn(
        this: This<'_>,
        job: impl FnOnce() -> Outcome<()> + Send + 'static,
    ) -> Result<AsyncTask<Chain>> {
        Ok(AsyncTask::new(Chain {
            job: Some(Box::new(job)),
            this: Some(this.object.create_ref::<false>()?),
        }))
    }
}

impl Task for Chain {
    type Output = Outcome<()>;
    type JsValue = ThisObject;

    fn compute(&mut self) -> Result<Self::Output> {
        compute(&mut self.job)
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<ThisObject> {
        output.map_err(|failure| js_error(&env, failure))?;
        let this = self
            .this
            .take()
            .ok_or_else(|| napi::Error::from_reason("oatk: a task resolved twice"))?;
        Ok(ThisObject(this))
    }

    fn finally(mut self, env: Env) -> Result<()> {
        if let Some(this) = self.this.take() {
            this.unref(&env)?;
        }
        Ok(())
    }
}

/// The object a [`Chain`] resolves to.
pub struct ThisObject(ObjectRef<false>);

impl TypeName for ThisObject {
    fn type_name() -> &'static str {
        "this"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for ThisObject {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        // Consumes the reference (deletes it after reading the value).
        unsafe { ObjectRef::to_napi_value(env, val.0) }
    }
}

/// Claims as the plain object a promise resolves to.
pub struct ClaimsObject(pub Claims);

impl TypeName for ClaimsObject {
    fn type_name() -> &'static str {
        "Record<string, any>"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for ClaimsObject {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        unsafe { serde_json::Map::to_napi_value(env, val.0) }
    }
}
