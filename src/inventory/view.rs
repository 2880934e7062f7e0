//! One validating pass over the inventory text that keeps only what matching
//! needs: where each credential's object starts, and its fingerprints,
//! identifiers and references, borrowed from the text.
//!
//! A scan must refuse an invalid inventory, but building the whole owned model
//! of a 100,000-credential file cost more than the scan's budget for it (most
//! of it allocating and then touching 120 MB). This pass runs the same serde
//! checks on borrowed strings and keeps nothing else; [`super::Index`]
//! deserializes the few credentials a scan actually hits from their offsets.
//! Both this view and the model check values through [`Checked`], and every
//! file this pass rejects is re-read by [`Inventory::parse`] for its message.
//!
//! [`Inventory::parse`]: super::Inventory::parse

use super::model::{Checked, Credential, Fingerprint, FormatVersion, Reference, Status, Timestamp};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::num::NonZeroU32;

/// What one pass over a valid inventory found, borrowed from its text.
#[derive(Default)]
pub(super) struct Summary<'a> {
    pub fingerprint_key_id: Option<String>,
    /// Per credential, in file order: its first key, which sits just inside
    /// its object (`None` when that key was written with escapes).
    pub first_keys: Vec<Option<&'a str>>,
    /// Credential ids, in file order.
    pub ids: Vec<Text<'a>>,
    /// Every version's fingerprint with its (credential, version) position.
    pub fingerprints: Vec<(Text<'a>, u32, u32)>,
    /// Credential-level identifiers (version `None`) and version identifiers.
    pub identifiers: Vec<(Text<'a>, u32, Option<u32>)>,
    /// `references` (false) and `retired_references` (true) entries.
    pub references: Vec<(u32, bool, Text<'a>)>,
    /// `repos` globs, checked once the pass is over.
    pub repos: Vec<Text<'a>>,
    /// Revoked versions' fingerprints with their credential and recorded length.
    pub revoked: Vec<(Text<'a>, u32, Option<u32>)>,
    /// Identifiers of revoked versions, and of credentials with no active version.
    pub revoked_identifiers: Vec<(Text<'a>, u32)>,
}

/// Reads `text` in one pass. `None` means the file may still be valid but this
/// pass cannot vouch for it (any serde error, or a cross-credential check):
/// the caller asks the full model, which explains or accepts it.
pub(super) fn read(text: &[u8]) -> Option<Summary<'_>> {
    // One UTF-8 check of the whole text is cheaper than serde_json's per string.
    let text = std::str::from_utf8(text).ok()?;
    let mut de = serde_json::Deserializer::from_str(text);
    let view = InventoryView::deserialize(&mut de).ok()?;
    de.end().ok()?;
    let mut summary = view.credentials.0;
    summary.fingerprint_key_id = view.fingerprint_key_id;
    cross_checks_pass(&summary).then_some(summary)
}

/// The checks that span credentials, as [`super::Inventory::parse`] makes them.
fn cross_checks_pass(s: &Summary<'_>) -> bool {
    let mut ids = super::index::FxHashMap::default();
    ids.reserve(s.ids.len());
    if !s
        .ids
        .iter()
        .all(|id| !Credential::is_blank_id(&id.0) && ids.insert(id.0.as_ref(), ()).is_none())
    {
        return false;
    }
    let hmac = s.fingerprint_key_id.is_some();
    if !s
        .fingerprints
        .iter()
        .all(|(fp, _, _)| Fingerprint::is_hmac_text(&fp.0) == hmac)
    {
        return false;
    }
    s.repos.iter().all(|g| globset::Glob::new(&g.0).is_ok())
}

/// A JSON string, borrowed from the text unless it was written with escapes.
#[derive(Default, Clone)]
pub(super) struct Text<'a>(pub Cow<'a, str>);

impl<'a> Text<'a> {
    /// The slice of the inventory text it was read from, when it is one.
    pub fn borrowed(&self) -> Option<&'a str> {
        match self.0 {
            Cow::Borrowed(s) => Some(s),
            Cow::Owned(_) => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(s.to_string())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(s)))
            }
        }
        d.deserialize_str(TextVisitor(PhantomData))
    }
}

/// A string that must pass `T`'s check, as the model's `T` would require.
struct Valid<'a, T>(Text<'a>, PhantomData<T>);

impl<'de: 'a, 'a, T: Checked> Deserialize<'de> for Valid<'a, T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Text::deserialize(d)?;
        T::check(&text.0).map_err(de::Error::custom)?;
        Ok(Valid(text, PhantomData))
    }
}

/// A string whose value is not kept.
#[derive(Default)]
struct AnyText;

impl<'de> Deserialize<'de> for AnyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct AnyTextVisitor;
        impl Visitor<'_> for AnyTextVisitor {
            type Value = AnyText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<AnyText, E> {
                Ok(AnyText)
            }
        }
        d.deserialize_str(AnyTextVisitor)
    }
}

/// A string that must pass `T`'s check, not kept.
struct Checks<T>(PhantomData<T>);

impl<'de, T: Checked> Deserialize<'de> for Checks<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ChecksVisitor<T>(PhantomData<T>);
        impl<T: Checked> Visitor<'_> for ChecksVisitor<T> {
            type Value = Checks<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Checks<T>, E> {
                T::check(s).map_err(E::custom)?;
                Ok(Checks(PhantomData))
            }
        }
        d.deserialize_str(ChecksVisitor(PhantomData))
    }
}

// The view structs mirror the model field for field (names, defaults, which
// fields are required, `deny_unknown_fields`); `tests::view_and_model_agree`
// holds them to it.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InventoryView<'a> {
    #[allow(dead_code)]
    version: FormatVersion,
    #[serde(default)]
    fingerprint_key_id: Option<String>,
    #[serde(default, borrow)]
    credentials: CredentialList<'a>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialView<'a> {
    #[serde(borrow)]
    id: Text<'a>,
    #[allow(dead_code)]
    kind: AnyText,
    #[allow(dead_code)]
    #[serde(default)]
    owner: AnyText,
    #[allow(dead_code)]
    #[serde(default)]
    rotation_days: Option<u32>,
    #[serde(default, borrow)]
    references: Vec<Valid<'a, Reference>>,
    #[serde(default, borrow)]
    retired_references: Vec<Valid<'a, Reference>>,
    #[serde(default, borrow)]
    identifiers: Vec<Text<'a>>,
    #[serde(default, borrow)]
    repos: Vec<Text<'a>>,
    #[serde(default, borrow)]
    versions: Vec<VersionView<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionView<'a> {
    #[serde(default, borrow)]
    fingerprint: Option<Valid<'a, Fingerprint>>,
    #[allow(dead_code)]
    #[serde(default)]
    hint: AnyText,
    #[serde(default)]
    length: Option<NonZeroU32>,
    #[serde(default, borrow)]
    identifier: Option<Text<'a>>,
    #[allow(dead_code)]
    created: Checks<Timestamp>,
    status: Status,
    #[allow(dead_code)]
    #[serde(default)]
    revoked: Option<Checks<Timestamp>>,
    #[allow(dead_code)]
    #[serde(default)]
    reset: Option<ResetView>,
    #[allow(dead_code)]
    #[serde(default)]
    revocation: Option<RevocationView>,
}

/// [`crate::types::ResetRecord`], checked and dropped.
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetView {
    by: AnyText,
    approved_by: AnyText,
    ticket: AnyText,
    reason: AnyText,
}

/// [`super::model::Revocation`], checked and dropped.
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevocationView {
    method: AnyText,
    #[serde(default)]
    evidence: AnyText,
    at: Checks<Timestamp>,
}

/// The `credentials` list, summarised element by element as it streams past,
/// so no credential outlives its own parse.
#[derive(Default)]
struct CredentialList<'a>(Summary<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for CredentialList<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ListVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for ListVisitor<'a> {
            type Value = CredentialList<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of credentials")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut s = Summary::default();
                while let Some(Located { first_key, view: c }) =
                    seq.next_element::<Located<'a>>()?
                {
                    let ci = u32::try_from(s.ids.len()).map_err(de::Error::custom)?;
                    s.first_keys.push(first_key);
                    s.ids.push(c.id);
                    // A credential-level identifier is revoked once no version is active.
                    let retired = !c.versions.is_empty()
                        && c.versions.iter().all(|v| v.status == Status::Revoked);
                    if retired {
                        s.revoked_identifiers
                            .extend(c.identifiers.iter().map(|id| (id.clone(), ci)));
                    }
                    // A version's own identifier outranks the credential's list.
                    s.identifiers
                        .extend(c.identifiers.into_iter().map(|id| (id, ci, None)));
                    for (vi, v) in (0u32..).zip(c.versions) {
                        let revoked = v.status == Status::Revoked;
                        if let Some(fp) = v.fingerprint {
                            if revoked {
                                let length = v.length.map(NonZeroU32::get);
                                s.revoked.push((fp.0.clone(), ci, length));
                            }
                            s.fingerprints.push((fp.0, ci, vi));
                        }
                        if let Some(id) = v.identifier {
                            if revoked {
                                s.revoked_identifiers.push((id.clone(), ci));
                            }
                            s.identifiers.push((id, ci, Some(vi)));
                        }
                    }
                    let current = c.references.into_iter().map(|r| (ci, false, r.0));
                    let retired = c.retired_references.into_iter().map(|r| (ci, true, r.0));
                    s.references.extend(current.chain(retired));
                    s.repos.extend(c.repos);
                }
                Ok(CredentialList(s))
            }
        }
        d.deserialize_seq(ListVisitor(PhantomData))
    }
}

/// A credential and the first key of its object, which locates it in the text.
struct Located<'a> {
    first_key: Option<&'a str>,
    view: CredentialView<'a>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Located<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct LocatedVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for LocatedVisitor<'a> {
            type Value = Located<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a credential object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let mut spy = FirstKeySpy::<'de, 'a, A> {
                    map,
                    asked: false,
                    first_key: None,
                    _de: PhantomData,
                };
                let view =
                    CredentialView::deserialize(de::value::MapAccessDeserializer::new(&mut spy))?;
                Ok(Located {
                    first_key: spy.first_key,
                    view,
                })
            }
        }
        d.deserialize_map(LocatedVisitor(PhantomData))
    }
}

/// Passes a map through unchanged, noting where its first key is in the text.
struct FirstKeySpy<'de: 'a, 'a, A> {
    map: A,
    asked: bool,
    first_key: Option<&'a str>,
    _de: PhantomData<&'de ()>,
}

impl<'de: 'a, 'a, A: MapAccess<'de>> MapAccess<'de> for FirstKeySpy<'de, 'a, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        if std::mem::replace(&mut self.asked, true) {
            return self.map.next_key_seed(seed);
        }
        self.map.next_key_seed(KeySpy {
            seed,
            slot: &mut self.first_key,
        })
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// Reads a key as text, remembers it when borrowed, and hands it on to `seed`.
struct KeySpy<'s, 'a, K> {
    seed: K,
    slot: &'s mut Option<&'a str>,
}

impl<'de: 'a, 'a, K: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySpy<'_, 'a, K> {
    type Value = K::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<K::Value, D::Error> {
        match Text::<'de>::deserialize(d)?.0 {
            Cow::Borrowed(key) => {
                *self.slot = Some(key);
                self.seed
                    .deserialize(de::value::BorrowedStrDeserializer::new(key))
            }
            Cow::Owned(key) => self
                .seed
                .deserialize(de::value::StringDeserializer::new(key)),
        }
    }
}

/// Where the object whose first key is `key` starts in `text`: only whitespace
/// separates `{` from the key's opening quote.
pub(super) fn object_start(text: &[u8], key: &str) -> Option<usize> {
    let quote = (key.as_ptr() as usize)
        .checked_sub(text.as_ptr() as usize)?
        .checked_sub(1)?;
    let before = text.get(..quote)?.trim_ascii_end();
    before.ends_with(b"{").then(|| before.len() - 1)
}
