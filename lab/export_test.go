package lab

// RolesRequireForTest is the root, BIRD and nginx gate of this package's
// tests, for the external tests in package lab_test (which may import
// lab/livediag, as package lab's own tests cannot).
var RolesRequireForTest = rolesRequire
