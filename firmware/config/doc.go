// Package config is palmd's configuration file: its fields, defaults and
// validation. A bad file gives one error naming the field.
package config
