package policy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"

	"github.com/open-policy-agent/opa/v1/ir"
)

// The plan in a snapshot is written in a compact form of its own rather than
// by gob, which names the type of every statement and took most of a
// one-file check to read. The form follows the Go types of OPA's ir package
// by reflection: integers as varints, strings and byte slices with their
// length, slices with their length (a nil slice as an empty one), pointers
// with a presence byte, structs as their exported fields in order, and the
// values of interfaces (ir.Stmt, ir.Val) as their index in irTypes, then the
// value. Reading works out once per type how to read it.

// irTypes are the concrete types behind the plan's interfaces. Their order is
// part of the snapshot format (snapshotFormat).
var irTypes = []reflect.Type{
	reflect.TypeFor[ir.Local](), reflect.TypeFor[ir.Bool](), reflect.TypeFor[ir.StringIndex](),
	reflect.TypeFor[*ir.ReturnLocalStmt](), reflect.TypeFor[*ir.CallStmt](), reflect.TypeFor[*ir.CallDynamicStmt](),
	reflect.TypeFor[*ir.BlockStmt](), reflect.TypeFor[*ir.BreakStmt](), reflect.TypeFor[*ir.DotStmt](),
	reflect.TypeFor[*ir.LenStmt](), reflect.TypeFor[*ir.ScanStmt](), reflect.TypeFor[*ir.NotStmt](),
	reflect.TypeFor[*ir.AssignIntStmt](), reflect.TypeFor[*ir.AssignVarStmt](), reflect.TypeFor[*ir.AssignVarOnceStmt](),
	reflect.TypeFor[*ir.ResetLocalStmt](), reflect.TypeFor[*ir.MakeNullStmt](), reflect.TypeFor[*ir.MakeNumberIntStmt](),
	reflect.TypeFor[*ir.MakeNumberRefStmt](), reflect.TypeFor[*ir.MakeArrayStmt](), reflect.TypeFor[*ir.MakeObjectStmt](),
	reflect.TypeFor[*ir.MakeSetStmt](), reflect.TypeFor[*ir.EqualStmt](), reflect.TypeFor[*ir.NotEqualStmt](),
	reflect.TypeFor[*ir.IsArrayStmt](), reflect.TypeFor[*ir.IsObjectStmt](), reflect.TypeFor[*ir.IsSetStmt](),
	reflect.TypeFor[*ir.IsDefinedStmt](), reflect.TypeFor[*ir.IsUndefinedStmt](), reflect.TypeFor[*ir.ArrayAppendStmt](),
	reflect.TypeFor[*ir.ObjectInsertStmt](), reflect.TypeFor[*ir.ObjectInsertOnceStmt](), reflect.TypeFor[*ir.ObjectMergeStmt](),
	reflect.TypeFor[*ir.SetAddStmt](), reflect.TypeFor[*ir.WithStmt](), reflect.TypeFor[*ir.NopStmt](),
	reflect.TypeFor[*ir.ResultSetAddStmt](),
}

var irTypeIndex = func() map[reflect.Type]int {
	m := map[reflect.Type]int{}
	for i, t := range irTypes {
		m[t] = i + 1 // 0 is a nil interface
	}
	return m
}()

// encodeIR appends the compact form of v (a pointer to an ir value) to b.
func encodeIR(b []byte, v any) ([]byte, error) { return appendValue(b, reflect.ValueOf(v).Elem()) }

func appendValue(b []byte, v reflect.Value) ([]byte, error) {
	var err error
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.AppendVarint(b, v.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return binary.AppendUvarint(b, v.Uint()), nil
	case reflect.Bool:
		if v.Bool() {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case reflect.String:
		b = binary.AppendUvarint(b, uint64(v.Len()))
		return append(b, v.String()...), nil
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b = binary.AppendUvarint(b, uint64(v.Len()))
			return append(b, v.Bytes()...), nil
		}
		b = binary.AppendUvarint(b, uint64(v.Len()))
		for i := 0; i < v.Len(); i++ {
			if b, err = appendValue(b, v.Index(i)); err != nil {
				return nil, err
			}
		}
		return b, nil
	case reflect.Pointer:
		if v.IsNil() {
			return append(b, 0), nil
		}
		return appendValue(append(b, 1), v.Elem())
	case reflect.Interface:
		if v.IsNil() {
			return append(b, 0), nil
		}
		e := v.Elem()
		i, ok := irTypeIndex[e.Type()]
		if !ok {
			return nil, fmt.Errorf("the plan holds a %s, which the snapshot cannot write", e.Type())
		}
		return appendValue(binary.AppendUvarint(b, uint64(i)), e)
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).IsExported() {
				if b, err = appendValue(b, v.Field(i)); err != nil {
					return nil, err
				}
			}
		}
		return b, nil
	}
	return nil, fmt.Errorf("the snapshot cannot write a %s", v.Type())
}

// irDecoder reads what encodeIR wrote.
type irDecoder struct {
	data   []byte
	fields map[reflect.Type][]int // exported fields, by struct type
}

var errShortPlan = errors.New("the snapshot's plan ends early")

// decodeIR reads into v (a pointer to the ir value encodeIR wrote).
func decodeIR(data []byte, v any) error {
	d := &irDecoder{data: data, fields: map[reflect.Type][]int{}}
	if err := d.value(reflect.ValueOf(v).Elem()); err != nil {
		return err
	}
	if len(d.data) != 0 {
		return errors.New("the snapshot's plan has bytes after its end")
	}
	return nil
}

func (d *irDecoder) uvarint() (uint64, error) {
	x, n := binary.Uvarint(d.data)
	if n <= 0 {
		return 0, errShortPlan
	}
	d.data = d.data[n:]
	return x, nil
}

// length reads a length, which the remaining bytes must be able to hold.
func (d *irDecoder) length() (int, error) {
	n, err := d.uvarint()
	if err != nil || n > uint64(len(d.data)) {
		return 0, errShortPlan
	}
	return int(n), nil
}

func (d *irDecoder) byte() (byte, error) {
	if len(d.data) == 0 {
		return 0, errShortPlan
	}
	c := d.data[0]
	d.data = d.data[1:]
	return c, nil
}

func (d *irDecoder) value(v reflect.Value) error {
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x, n := binary.Varint(d.data)
		if n <= 0 {
			return errShortPlan
		}
		d.data = d.data[n:]
		v.SetInt(x)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		x, err := d.uvarint()
		if err != nil {
			return err
		}
		v.SetUint(x)
	case reflect.Bool:
		c, err := d.byte()
		if err != nil {
			return err
		}
		v.SetBool(c == 1)
	case reflect.String:
		n, err := d.length()
		if err != nil {
			return err
		}
		v.SetString(string(d.data[:n]))
		d.data = d.data[n:]
	case reflect.Slice:
		n, err := d.length() // each element takes a byte at least
		if err != nil || n == 0 {
			return err
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes(append([]byte(nil), d.data[:n]...))
			d.data = d.data[n:]
			return nil
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			if err := d.value(s.Index(i)); err != nil {
				return err
			}
		}
		v.Set(s)
	case reflect.Pointer:
		c, err := d.byte()
		if err != nil || c == 0 {
			return err
		}
		p := reflect.New(v.Type().Elem())
		if err := d.value(p.Elem()); err != nil {
			return err
		}
		v.Set(p)
	case reflect.Interface:
		i, err := d.uvarint()
		if err != nil || i == 0 {
			return err
		}
		if i > uint64(len(irTypes)) {
			return fmt.Errorf("the snapshot's plan names type %d of %d", i, len(irTypes))
		}
		t := irTypes[i-1]
		if !t.AssignableTo(v.Type()) {
			return fmt.Errorf("the snapshot's plan puts a %s where a %s belongs", t, v.Type())
		}
		x := reflect.New(t).Elem() // a pointer type reads its presence byte
		if err := d.value(x); err != nil {
			return err
		}
		v.Set(x)
	case reflect.Struct:
		for _, i := range d.exported(v.Type()) {
			if err := d.value(v.Field(i)); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("the snapshot cannot read a %s", v.Type())
	}
	return nil
}

func (d *irDecoder) exported(t reflect.Type) []int {
	f, ok := d.fields[t]
	if !ok {
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).IsExported() {
				f = append(f, i)
			}
		}
		d.fields[t] = f
	}
	return f
}
