/**
 * Model families: what each architecture knows beyond its network (presets, recognising a weights
 * file's configuration, its authors' training and sampling {@link dev.dit4j.models.family.Recipe}s).
 */
package dev.dit4j.models.family;
