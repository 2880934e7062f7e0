//! Fixture files per format: the references and findings keytrace reports for each, asserted exactly.
