//! Behaviour tests of `ap::data`.

use super::super::harness::*;
